// Whole-file reads for the I/O room and the tools (header-only, so a caller needs no engine
// library); the tokenizer and viz rooms take bytes and read nothing themselves. Only regular files
// are read, and opening never blocks: a FIFO or a device given as a config, a tokenizer file, a
// text list or saved maps is refused instead of waited on forever.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>

namespace headmap {

// The bytes of `path`, or nullopt with `why` saying what was wrong (the system's reason, "not a
// regular file", or the size over `max_bytes`).
inline std::optional<std::string> read_regular_file(
    const std::filesystem::path& path, std::string& why,
    size_t max_bytes = std::numeric_limits<size_t>::max()) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    if (!S_ISREG(info.st_mode)) {
        why = S_ISDIR(info.st_mode) ? "it is a directory" : "not a regular file";
        return std::nullopt;
    }
    if (size_t(info.st_size) > max_bytes) {
        why = "it holds " + std::to_string(info.st_size) + " bytes, over the limit of " +
              std::to_string(max_bytes);
        return std::nullopt;
    }
    // Read into exactly the size fstat gave (one allocation for a 150 MB export), then append
    // whatever a file that grew meanwhile still holds.
    std::string bytes(size_t(info.st_size), '\0');
    size_t got = 0;
    char more[4096];
    for (;;) {
        const bool sized = got < bytes.size();
        const ssize_t n = sized ? ::read(fd, bytes.data() + got, bytes.size() - got)
                                : ::read(fd, more, sizeof more);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            why = std::strerror(errno);
            return std::nullopt;
        }
        if (n == 0) break;
        if (!sized) bytes.append(more, size_t(n));
        got += size_t(n);
        if (got > max_bytes) {
            why = "it holds over " + std::to_string(max_bytes) + " bytes, the limit";
            return std::nullopt;
        }
    }
    bytes.resize(got);
    return bytes;
}

}  // namespace headmap
