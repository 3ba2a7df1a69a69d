#include <cstdio>

#include "tools/cli/commands.h"
#include "tools/cli/model_input.h"

namespace headmap::cli {

int cmd_tokenize(const std::vector<std::string>& argv) {
    const Args args("tokenize", argv, kModelOptions, {"tokens", "truncate"});
    const ModelInput input = read_model_input(args, args.flag("truncate"));
    std::string line;
    for (size_t i = 0; i < input.ids.size(); ++i) {
        if (i) line += ' ';
        line += args.flag("tokens") ? input.tokenizer.token_string(input.ids[i])
                                    : std::to_string(input.ids[i]);
    }
    std::printf("%s\n", line.c_str());
    return 0;
}

}  // namespace headmap::cli
