// export's formats: .npy, .npz (numpy.savez layout: a stored zip of .npy members with CRCs),
// .safetensors (attentions plus tokens/ids in the metadata) and .json, all holding the same maps.
// tools/reference/check_exports.py opens them with numpy and safetensors where those exist
// (registered as its own ctest when CMake finds them).
#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <sstream>

#include "cli_test_support.h"

using namespace cli_test;

namespace {

uint32_t read32(const std::string& b, size_t at) {
    uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}
uint16_t read16(const std::string& b, size_t at) {
    uint16_t v;
    std::memcpy(&v, b.data() + at, 2);
    return v;
}
uint32_t crc32_of(const std::string& bytes) {
    uint32_t crc = ~0u;
    for (unsigned char c : bytes) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}

// The members of a stored zip, by walking the central directory.
std::map<std::string, std::string> zip_members(const std::string& zip) {
    std::map<std::string, std::string> members;
    REQUIRE(zip.size() >= 22);
    const size_t end = zip.size() - 22;
    REQUIRE(read32(zip, end) == 0x06054b50u);
    const uint16_t count = read16(zip, end + 10);
    size_t at = read32(zip, end + 16);
    for (uint16_t i = 0; i < count; ++i) {
        REQUIRE(read32(zip, at) == 0x02014b50u);
        CHECK(read16(zip, at + 10) == 0);  // stored
        const uint32_t crc = read32(zip, at + 16), size = read32(zip, at + 24);
        const uint16_t name_len = read16(zip, at + 28);
        const uint32_t local = read32(zip, at + 42);
        const std::string name = zip.substr(at + 46, name_len);
        REQUIRE(read32(zip, local) == 0x04034b50u);
        const size_t data = local + 30 + read16(zip, local + 26) + read16(zip, local + 28);
        const std::string bytes = zip.substr(data, size);
        CHECK(crc32_of(bytes) == crc);
        members[name] = bytes;
        at += 46 + name_len + read16(zip, at + 30) + read16(zip, at + 32);
    }
    return members;
}

}  // namespace

TEST_CASE("export .npz, .safetensors and .json hold the same maps as .npy") {
    TempDir tmp;
    const std::string src = "export --model " + quote(kTiny.string()) + " " + tok_opt() +
                            " --text " + quote(kSeed) + " --layers -1 --heads 0,2 --out ";
    const std::vector<CommandResult> r = run_many({
        src + quote((tmp / "a.npy").string()),
        src + quote((tmp / "a.npz").string()),
        src + quote((tmp / "a.safetensors").string()),
        src + quote((tmp / "a.json").string()),
        src + quote((tmp / "a.txt").string()),
    });
    for (size_t i = 0; i < 4; ++i) REQUIRE(r[i].exit_code == 0);
    check_error(r[4], "expected .npy, .npz, .safetensors or .json");
    const NpyArray npy = read_npy(tmp / "a.npy");
    REQUIRE(npy.shape == std::vector<int64_t>{1, 2, 7, 7});

    const auto members = zip_members(read_file(tmp / "a.npz"));
    for (const char* name :
         {"attentions.npy", "ids.npy", "tokens.npy", "type_ids.npy", "layers.npy", "heads.npy"})
        CHECK(members.count(name) == 1);
    write_file(tmp / "member.npy", members.at("attentions.npy"));
    const NpyArray from_npz = read_npy(tmp / "member.npy");
    CHECK(from_npz.shape == npy.shape);
    CHECK(from_npz.values == npy.values);
    CHECK(contains(members.at("tokens.npy"), "'descr': '<U"));
    CHECK(contains(members.at("ids.npy"), "'descr': '<i4'"));

    headmap::WeightStore store(headmap::SafetensorsArchive::open(tmp / "a.safetensors"));
    const auto st = store.get("attentions", {1, 2, 7, 7});
    CHECK(std::vector<float>(st.begin(), st.end()) == npy.values);
    CHECK(contains(read_file(tmp / "a.safetensors"), "\"tokens\""));

    const json doc = read_json(tmp / "a.json");
    std::vector<int> seed_ids;
    std::istringstream ids_text(kSeedIds);
    for (int id; ids_text >> id;) seed_ids.push_back(id);
    CHECK(doc["ids"].get<std::vector<int>>() == seed_ids);
    CHECK(doc["tokens"][1] == "Ġnew");
    CHECK(doc["layers"] == json::array({1}));
    CHECK(doc["heads"] == json::array({0, 2}));
    std::vector<float> from_json;
    for (const auto& head : doc["attentions"][0])
        for (const auto& row : head)
            for (const auto& v : row) from_json.push_back(v.get<float>());
    CHECK(from_json == npy.values);
}

TEST_CASE("views and stats of a saved .safetensors export use its stored tokens") {
    TempDir tmp;
    const std::string saved = quote((tmp / "x.safetensors").string());
    const std::string model = "--model " + quote(kTiny.string()) + " " + tok_opt();
    const std::string npz = quote((tmp / "x.npz").string());
    for (const std::string& out : {saved, npz}) {
        const CommandResult exported =
            run_cli("export " + model + " --text " + quote("Hello world again") + " --out " + out);
        REQUIRE(exported.exit_code == 0);
    }
    const std::vector<std::string> commands = {
        "heatmap --from " + npz + " --layer 0 --head 0 --title T --out " +
            quote((tmp / "n.svg").string()),
        "heatmap --from " + saved + " --layer 0 --head 0 --title T --out " +
            quote((tmp / "h.svg").string()),
        "stats --from " + saved + " --format json",
        "heatmap --from " + saved + " --tokens " + quote("a b c") + " --layer 0 --head 0 --out " +
            quote((tmp / "t.svg").string()),
    };
    const std::vector<CommandResult> results = run_many(commands);
    for (size_t i = 0; i < commands.size(); ++i) {
        CAPTURE(commands[i]);
        INFO("stderr: ", results[i].err);
        REQUIRE(results[i].exit_code == 0);
    }
    const std::string svg = read_file(tmp / "h.svg");
    CHECK(read_file(tmp / "n.svg") == svg);  // the .npz export reads back the same
    CHECK(contains(svg, ">Hello<"));
    CHECK(contains(svg, ">\u2423world<"));
    CHECK(contains(svg, ">\u2423again<"));
    CHECK(!contains(svg, ">2<"));  // not the row numbers
    // stats names the tokens (and so the hubs) by the stored tokens, not by row numbers.
    CHECK(contains(results[2].out, "\"tokens\":[\"Hello\",\"\u0120world\",\"\u0120again\"]"));
    // --tokens still overrides.
    const std::string overridden = read_file(tmp / "t.svg");  // results[3]
    CHECK(contains(overridden, ">b<"));
    CHECK(!contains(overridden, "world"));
}
