#include "engine/output_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "headmap/error.hpp"

namespace headmap {

std::string lower_extension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    for (char& c : ext)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return ext;
}

AtomicOutputFile::AtomicOutputFile(std::filesystem::path path) : path_(std::move(path)) {
    if (path_.empty()) throw Error("no output path given");
    std::filesystem::path dir = path_.parent_path();
    if (dir.empty()) dir = ".";
    if (std::filesystem::is_directory(path_))
        throw Error("cannot write " + path_.string() + ": it is a directory (expected a file path)",
                    Status::Io);
    // Built piecewise: GCC 12 warns falsely (-Wrestrict) on "." + string.
    std::string temp_name = ".";
    temp_name += path_.filename().string();
    temp_name += ".tmp-";
    temp_name += std::to_string(getpid());
    temp_path_ = dir / temp_name;
    file_ = std::fopen(temp_path_.c_str(), "wb");
    if (!file_)
        throw Error("cannot write " + path_.string() + ": " + std::strerror(errno) +
                        " (expected a writable path)",
                    Status::Io);
}

AtomicOutputFile::~AtomicOutputFile() {
    if (file_) std::fclose(file_);
    if (!committed_) {
        std::error_code ignored;
        std::filesystem::remove(temp_path_, ignored);
    }
}

void AtomicOutputFile::write(std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
        throw Error("cannot write " + path_.string() + ": " + std::strerror(errno), Status::Io);
}

void AtomicOutputFile::commit() {
    const bool flushed = std::fflush(file_) == 0;
    const int saved_errno = errno;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!flushed || !closed)
        throw Error(
            "cannot write " + path_.string() + ": " + std::strerror(flushed ? errno : saved_errno),
            Status::Io);
    std::error_code ec;
    std::filesystem::rename(temp_path_, path_, ec);
    if (ec) throw Error("cannot write " + path_.string() + ": " + ec.message(), Status::Io);
    committed_ = true;
}

std::vector<std::byte> npy_header(std::span<const int64_t> shape, std::string_view descr) {
    std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < shape.size(); ++i) {
        dict += std::to_string(shape[i]);
        if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
        if (i + 1 < shape.size()) dict += " ";
    }
    dict += "), }";
    // magic(6) + version(2) + header_len(2) + dict + padding + '\n' is a multiple of 64.
    size_t total = 10 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict += '\n';
    std::vector<std::byte> header;
    const char magic[] = "\x93NUMPY\x01\x00";
    for (int i = 0; i < 8; ++i) header.push_back(std::byte(magic[i]));
    header.push_back(std::byte(dict.size() & 0xff));
    header.push_back(std::byte(dict.size() >> 8));
    for (char c : dict) header.push_back(std::byte(c));
    return header;
}

NpyWriter::NpyWriter(std::filesystem::path path, std::vector<int64_t> shape)
    : file_(std::move(path)) {
    for (int64_t d : shape) expected_ *= uint64_t(d);
    file_.write(npy_header(shape));
}

void NpyWriter::write(std::span<const float> values) {
    written_ += values.size();
    file_.write(std::as_bytes(values));
}

void NpyWriter::commit() {
    if (written_ != expected_)
        throw Error("internal: .npy got " + std::to_string(written_) + " values, expected " +
                    std::to_string(expected_));
    file_.commit();
}

}  // namespace headmap
