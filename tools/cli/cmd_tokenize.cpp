#include <cstdio>

#include "tools/cli/commands.h"
#include "tools/cli/model_input.h"

namespace headmap::cli {

// One line per text: the ids the model sees (special tokens included), or with --tokens the
// token strings; --type-ids adds a second line of token type ids.
int cmd_tokenize(const Args& args) {
    const ModelInput input = read_model_input(args, args.flag("truncate"));
    for (const Encoding& encoding : input.inputs) {
        std::string line, types;
        for (size_t i = 0; i < encoding.ids.size(); ++i) {
            if (i) line += ' ', types += ' ';
            line += args.flag("tokens") ? input.tokenizer.token_string(encoding.ids[i])
                                        : std::to_string(encoding.ids[i]);
            types += std::to_string(encoding.type_ids[i]);
        }
        std::printf("%s\n", line.c_str());
        if (args.flag("type-ids")) std::printf("%s\n", types.c_str());
    }
    return 0;
}

}  // namespace headmap::cli
