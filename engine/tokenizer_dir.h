// Tokenizer directories, read by the I/O room: the tokenizer room parses bytes and opens no
// files, so reading a model's tokenizer files happens here.
#pragma once

#include <filesystem>
#include <string_view>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_files.h"

namespace headmap {

// Every file of kTokenizerFileKinds that `dir` holds, read whole (regular files only, opened
// without blocking). headmap::Error when `dir` is not a directory, or a file there cannot be
// read ("cannot open vocab file '<dir>/vocab.json': ..."), even one the model type would not use.
TokenizerFiles read_tokenizer_files(const std::filesystem::path& dir);

// The tokenizer of a model of `model_type` from the files in `dir`.
Tokenizer load_tokenizer_dir(const std::filesystem::path& dir, std::string_view model_type);

}  // namespace headmap
