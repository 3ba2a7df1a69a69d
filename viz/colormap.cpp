// Colormaps: matplotlib's 256-entry lookup tables, looked up the way matplotlib does
// (index = floor(t * 256), t = 1 -> 255), so a headmap figure and a matplotlib figure with the same
// norm show the same colours. A "_r" suffix reverses a map, as in matplotlib.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <string_view>

#include "headmap/error.hpp"
#include "viz/views.h"

namespace headmap::viz {
namespace {

struct Table {
    const char* name;
    const char* hex;  // 256 x "rrggbb"
};

// Generated with matplotlib 3.11.2 (pip install matplotlib into /opt/hfref):
//   for name in ["viridis", "magma", "Blues", "Purples", "Greys", "RdBu"]:
//       rgb = np.round(matplotlib.colormaps[name](np.arange(256))[:, :3] * 255).astype(int)
// i.e. viridis and magma are the _cm_listed data, Blues/Purples/Greys/RdBu the
// LinearSegmentedColormap (ColorBrewer) definitions sampled at N = 256; rounding as to_hex does.
// clang-format off
constexpr Table kTables[] = {
    {"viridis",
     "44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769"
     "48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a"
     "472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85"
     "4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b"
     "3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d"
     "33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e"
     "2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e"
     "26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d"
     "21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88"
     "1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81"
     "28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74"
     "3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863"
     "5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d"
     "84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32"
     "addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a"
     "d8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725"
    },
    {"magma",
     "00000401000501010601010802010902020b02020d03030f03031204041405041606051806051a07061c08071e090720"
     "0a08220b09240c09260d0a290e0b2b100b2d110c2f120d31130d34140e36150e38160f3b180f3d19103f1a10421c1044"
     "1d11471e114920114b21114e22115024125325125527125829115a2a115c2c115f2d11612f1163311165331067341069"
     "36106b38106c390f6e3b0f703d0f713f0f72400f74420f75440f764510774710784910784a10794c117a4e117b4f127b"
     "51127c52137c54137d56147d57157e59157e5a167e5c167f5d177f5f187f601880621980641a80651a80671b80681c81"
     "6a1c816b1d816d1d816e1e81701f81721f817320817521817621817822817922827b23827c23827e2482802582812581"
     "8326818426818627818827818928818b29818c29818e2a81902a81912b81932b80942c80962c80982d80992d809b2e7f"
     "9c2e7f9e2f7fa02f7fa1307ea3307ea5317ea6317da8327daa337dab337cad347cae347bb0357bb2357bb3367ab5367a"
     "b73779b83779ba3878bc3978bd3977bf3a77c03a76c23b75c43c75c53c74c73d73c83e73ca3e72cc3f71cd4071cf4070"
     "d0416fd2426fd3436ed5446dd6456cd8456cd9466bdb476adc4869de4968df4a68e04c67e24d66e34e65e44f64e55064"
     "e75263e85362e95462ea5661eb5760ec5860ed5a5fee5b5eef5d5ef05f5ef1605df2625df2645cf3655cf4675cf4695c"
     "f56b5cf66c5cf66e5cf7705cf7725cf8745cf8765cf9785df9795df97b5dfa7d5efa7f5efa815ffb835ffb8560fb8761"
     "fc8961fc8a62fc8c63fc8e64fc9065fd9266fd9467fd9668fd9869fd9a6afd9b6bfe9d6cfe9f6dfea16efea36ffea571"
     "fea772fea973feaa74feac76feae77feb078feb27afeb47bfeb67cfeb77efeb97ffebb81febd82febf84fec185fec287"
     "fec488fec68afec88cfeca8dfecc8ffecd90fecf92fed194fed395fed597fed799fed89afdda9cfddc9efddea0fde0a1"
     "fde2a3fde3a5fde5a7fde7a9fde9aafdebacfcecaefceeb0fcf0b2fcf2b4fcf4b6fcf6b8fcf7b9fcf9bbfcfbbdfcfdbf"
    },
    {"Blues",
     "f7fbfff6fafff5fafef5f9fef4f9fef3f8fef2f8fdf2f7fdf1f7fdf0f6fdeff6fceef5fceef5fcedf4fcecf4fbebf3fb"
     "eaf3fbeaf2fbe9f2fae8f1fae7f1fae7f0fae6f0f9e5eff9e4eff9e3eef9e3eef8e2edf8e1edf8e0ecf8dfecf7dfebf7"
     "deebf7ddeaf7dceaf6dce9f6dbe9f6dae8f6d9e8f5d9e7f5d8e7f5d7e6f5d6e6f4d6e5f4d5e5f4d4e4f4d3e4f3d3e3f3"
     "d2e3f3d1e2f3d0e2f2d0e1f2cfe1f2cee0f2cde0f1cddff1ccdff1cbdef1cadef0caddf0c9ddf0c8dcf0c7dcefc7dbef"
     "c6dbefc4daeec3daeec2d9eec1d9edbfd8edbed8ecbdd7ecbcd7ebbad6ebb9d6eab8d5eab7d4eab5d4e9b4d3e9b3d3e8"
     "b2d2e8b0d2e7afd1e7aed1e7add0e6abd0e6aacfe5a9cfe5a8cee4a6cee4a5cde3a4cce3a3cce3a1cbe2a0cbe29fcae1"
     "9dcae19cc9e19ac8e099c7e097c6df95c5df94c4df92c4de91c3de8fc2de8dc1dd8cc0dd8abfdd89bedc87bddc85bcdc"
     "84bcdb82bbdb81badb7fb9da7db8da7cb7da7ab6d979b5d977b5d975b4d874b3d872b2d871b1d76fb0d76dafd76caed6"
     "6aaed669add568acd566abd465aad464a9d363a8d361a7d260a7d25fa6d15da5d15ca4d05ba3d05aa2cf58a1cf57a0ce"
     "56a0ce549fcd539ecd529dcc519ccc4f9bcb4e9acb4d99ca4b98ca4a98c94997c94896c84695c84594c74493c74292c6"
     "4191c64090c53f8fc53e8ec43d8dc43c8cc33b8bc23a8ac23989c13888c13787c03686c03585bf3484bf3383be3282be"
     "3181bd3080bd2f7fbc2e7ebc2d7dbb2c7cba2b7bba2a7ab92979b92777b82676b82575b72474b72373b62272b62171b5"
     "2070b4206fb41f6eb31e6db21d6cb11c6bb01c6ab01b69af1a68ae1967ad1966ad1865ac1764ab1663aa1562a91561a9"
     "1460a8135fa7125ea6125da6115ca5105ba40f5aa30e59a20e58a20d57a10c56a00b559f0a549e0a539e09529d08519c"
     "08509b084f99084e98084d96084c95084b93084a9108499008488e08478d08468b08458a084488084387084285084184"
     "084082083e81083d7f083c7d083b7c083a7a08397908387708377608367408357308347108337008326e08316d08306b"
    },
    {"Purples",
     "fcfbfdfcfbfdfbfafcfbfafcfaf9fcfaf9fcfaf8fbf9f8fbf9f7fbf8f7fbf8f7faf8f6faf7f6faf7f5faf6f5f9f6f4f9"
     "f5f4f9f5f4f9f5f3f8f4f3f8f4f2f8f3f2f8f3f1f7f3f1f7f2f0f7f2f0f7f1f0f6f1eff6f1eff6f0eef6f0eef5efedf5"
     "efedf5eeecf5eeecf4edebf4ecebf4eceaf3ebe9f3eae9f3eae8f2e9e8f2e8e7f2e8e6f2e7e6f1e6e5f1e6e5f1e5e4f0"
     "e4e3f0e4e3f0e3e2efe2e2efe2e1efe1e0eee0e0eee0dfeedfdfeddedeeddeddedddddecdcdcecdcdcecdbdbecdadaeb"
     "dadaebd9d9ead8d8ead7d7e9d6d6e9d5d5e9d4d4e8d3d3e8d2d2e7d1d2e7d0d1e6cfd0e6cecfe5cecee5cdcde4cccce4"
     "cbcbe3cacae3c9c9e2c8c8e2c7c8e1c6c7e1c5c6e1c4c5e0c3c4e0c2c3dfc1c2dfc0c1debfc0debebfddbebeddbdbedc"
     "bcbddcbbbbdbbabadbb9b9dab8b8d9b7b7d9b6b6d8b5b5d7b4b4d7b3b3d6b2b2d5b1b1d5b0afd4afaed4aeadd3aeacd2"
     "adabd2acaad1aba9d0aaa8d0a9a7cfa8a6cfa7a4cea6a3cda5a2cda4a1cca3a0cba29fcba19ecaa09dca9f9cc99e9bc8"
     "9e9ac89d99c79c98c79b97c69a96c69995c69894c59793c59692c49591c49490c39390c3928fc3918ec2908dc28f8cc1"
     "8e8bc18e8ac08d89c08c88bf8b87bf8a86bf8986be8885be8784bd8683bd8582bc8481bc8380bb827fbb817ebb807dba"
     "807cba7f7bb97e79b87d78b77d77b77c75b67b74b57b72b47a71b47970b3796eb2786db2776cb1776ab07669af7567af"
     "7566ae7465ad7363ad7262ac7261ab715faa705eaa705ca96f5ba86e5aa86e58a76d57a66c55a56c54a56b53a46a51a3"
     "6950a3694fa2684da1674ca1674ba066499f65489f65479e64459e63449d63439c62429c61409b613f9a603e9a5f3c99"
     "5e3b985e3a985d38975c37975c36965b34955a33955a3294593093582f93582e92572c92562b91552a9055289054278f"
     "53268f53258e52238d51228d51218c50208c4f1f8b4f1d8b4e1c8a4d1b894d1a894c18884c17884b16874a15874a1486"
     "491285481185481084470f84460d83460c83450b82440a8244098143078042068042057f41047f40027e40017e3f007d"
    },
    {"Greys",
     "fffffffffffffefefefefefefdfdfdfdfdfdfcfcfcfcfcfcfbfbfbfbfbfbfafafafafafaf9f9f9f9f9f9f8f8f8f8f8f8"
     "f7f7f7f7f7f7f7f7f7f6f6f6f6f6f6f5f5f5f5f5f5f4f4f4f4f4f4f3f3f3f3f3f3f2f2f2f2f2f2f1f1f1f1f1f1f0f0f0"
     "f0f0f0efefefeeeeeeeeeeeeedededececececececebebebeaeaeae9e9e9e9e9e9e8e8e8e7e7e7e7e7e7e6e6e6e5e5e5"
     "e4e4e4e4e4e4e3e3e3e2e2e2e1e1e1e1e1e1e0e0e0dfdfdfdfdfdfdedededddddddcdcdcdcdcdcdbdbdbdadadadadada"
     "d9d9d9d8d8d8d7d7d7d6d6d6d5d5d5d4d4d4d4d4d4d3d3d3d2d2d2d1d1d1d0d0d0cfcfcfcecececdcdcdcccccccccccc"
     "cbcbcbcacacac9c9c9c8c8c8c7c7c7c6c6c6c5c5c5c5c5c5c4c4c4c3c3c3c2c2c2c1c1c1c0c0c0bfbfbfbebebebebebe"
     "bdbdbdbbbbbbbababab9b9b9b8b8b8b6b6b6b5b5b5b4b4b4b3b3b3b2b2b2b0b0b0afafafaeaeaeadadadabababaaaaaa"
     "a9a9a9a8a8a8a7a7a7a5a5a5a4a4a4a3a3a3a2a2a2a0a0a09f9f9f9e9e9e9d9d9d9c9c9c9a9a9a999999989898979797"
     "9595959494949393939292929191919090908f8f8f8e8e8e8d8d8d8c8c8c8a8a8a898989888888878787868686858585"
     "8484848383838282828181817f7f7f7e7e7e7d7d7d7c7c7c7b7b7b7a7a7a797979787878777777767676757575737373"
     "7272727171717070706f6f6f6e6e6e6d6d6d6c6c6c6b6b6b6a6a6a696969686868676767666666656565646464636363"
     "6262626161616060605f5f5f5e5e5e5d5d5d5c5c5c5b5b5b5a5a5a585858575757565656555555545454535353525252"
     "5151515050504e4e4e4d4d4d4b4b4b4a4a4a4848484747474646464444444343434141414040403f3f3f3d3d3d3c3c3c"
     "3a3a3a3939393838383636363535353333333232323030302f2f2f2e2e2e2c2c2c2b2b2b292929282828272727252525"
     "2424242323232222222121211f1f1f1e1e1e1d1d1d1c1c1c1b1b1b1a1a1a181818171717161616151515141414131313"
     "1111111010100f0f0f0e0e0e0d0d0d0c0c0c0a0a0a090909080808070707060606050505030303020202010101000000"
    },
    {"RdBu",
     "67001f6a011f6d02207003207304217605217906227c07227f0823810823840924870a248a0b258d0c25900d26930e26"
     "960f279910279c11279f1228a21328a51429a81529ab162aae172ab1182bb3192cb41c2db61f2eb72230b82531ba2832"
     "bb2a34bd2d35be3036bf3338c13639c2383ac43b3cc53e3dc6413ec84440c94741cb4942cc4c44ce4f45cf5246d05548"
     "d25849d35a4ad55d4cd6604dd7634fd86551da6853db6b55dc6e57dd7059de735cdf765ee17860e27b62e37e64e48066"
     "e58368e6866ae8896ce98b6eea8e70eb9172ec9374ee9677ef9979f09c7bf19e7df2a17ff3a481f4a683f5a886f5aa89"
     "f5ac8bf6af8ef6b191f6b394f7b596f7b799f7b99cf8bb9ef8bda1f8bfa4f9c2a7f9c4a9f9c6acfac8affacab1fbccb4"
     "fbceb7fbd0b9fcd3bcfcd5bffcd7c2fdd9c4fddbc7fddcc9fdddcbfcdecdfcdfcffce0d0fce2d2fbe3d4fbe4d6fbe5d8"
     "fbe6dafae7dcfae8defae9dffaeae1f9ebe3f9ede5f9eee7f9efe9f9f0ebf8f1edf8f2eff8f3f0f8f4f2f7f5f4f7f6f6"
     "f6f7f7f5f6f7f3f5f6f2f5f6f0f4f6eff3f5edf2f5ecf2f5eaf1f5e9f0f4e7f0f4e6eff4e4eef4e3edf3e1edf3e0ecf3"
     "deebf2ddebf2dbeaf2dae9f2d8e9f1d7e8f1d5e7f1d4e6f1d2e6f0d1e5f0cfe4efcce2efcae1eec7e0edc5dfecc2ddec"
     "c0dcebbddbeabbdaeab8d8e9b6d7e8b3d6e8b1d5e7aed3e6acd2e5a9d1e5a7d0e4a5cee3a2cde3a0cce29dcbe19bc9e0"
     "98c8e096c7df93c6de90c4dd8dc2dc8ac0db87beda84bcd981bad87eb8d77bb6d678b4d575b2d471b0d36eaed26bacd1"
     "68abd065a9cf62a7ce5fa5cd5ca3cb59a1ca569fc9529dc84f9bc74c99c64997c54695c44393c34291c2408fc13f8ec0"
     "3e8cbf3c8abe3b88be3a87bd3885bc3783bb3681ba3480b9337eb8327cb7307ab62f79b52e77b52c75b42b73b32a71b2"
     "2870b1276eb0266caf246aae2369ad2267ac2065ab1f63a81e61a51d5fa21c5c9f1b5a9c1a5899195696185493175290"
     "15508d144e8a134c8712498411478110457e0f437b0e41790d3f760c3d730a3b7009386d08366a073467063264053061"
    },
};
// clang-format on

int hex_digit(char c) {
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

std::vector<Color> decode(const char* hex) {
    std::vector<Color> out(256);
    for (size_t i = 0; i < 256; ++i) {
        const char* p = hex + i * 6;
        out[i] = Color{uint8_t(hex_digit(p[0]) * 16 + hex_digit(p[1])),
                       uint8_t(hex_digit(p[2]) * 16 + hex_digit(p[3])),
                       uint8_t(hex_digit(p[4]) * 16 + hex_digit(p[5])), 255};
    }
    return out;
}

}  // namespace

Color Colormap::operator()(float t) const {
    // NaN fails every comparison: map it to the low end rather than index with garbage.
    if (!(t > 0)) t = 0;
    if (t > 1) t = 1;
    const int n = int(table.size());
    if (n == 0) return Color{};
    return table[size_t(std::min(int(t * float(n)), n - 1))];
}

std::vector<std::string> colormap_names() {
    std::vector<std::string> names;
    for (const Table& t : kTables) names.emplace_back(t.name);
    return names;
}

Colormap colormap(std::string_view name) {
    std::string_view base = name;
    const bool reversed = base.size() > 2 && base.substr(base.size() - 2) == "_r";
    if (reversed) base.remove_suffix(2);
    for (const Table& t : kTables) {
        if (base != t.name) continue;
        Colormap map{std::string(name), {}};
        map.table = decode(t.hex);
        if (reversed) std::reverse(map.table.begin(), map.table.end());
        return map;
    }
    std::string known;
    for (const Table& t : kTables) {
        if (!known.empty()) known += ", ";
        known += t.name;
    }
    throw Error("unknown colormap '" + std::string(name) + "' (known: " + known +
                "; add _r to reverse one)");
}

}  // namespace headmap::viz
