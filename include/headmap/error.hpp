// headmap's one error type and its status codes: the foundation every room may use (tokenizer,
// kernels, engine, viz, the CLI and the C++ face of the public API alike). The CLI catches it once,
// prints its one-line message and exits with code 2; the C API turns it into a status code and a
// message readable per handle. The numbers are the C API's (include/headmap/headmap.h).
#pragma once

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

namespace headmap {

// `message` as one short line. Messages quote user input and file contents (paths, option values,
// tokens), which may hold line breaks, other control bytes (a NUL would end what() early) or
// megabytes of one line: control bytes are shown escaped (\n, \r, \t, \xNN), and a message over
// ~1 KB keeps its first and last 480 bytes (the end says what was expected), cut at UTF-8
// boundaries. Applying it twice changes nothing more.
inline std::string one_line(std::string_view text) {
    constexpr size_t kKeep = 480;
    std::string shortened;
    if (text.size() > 2 * kKeep + 64) {
        size_t head = kKeep, tail = text.size() - kKeep;
        const auto continuation = [&](size_t at) { return (uint8_t(text[at]) & 0xC0) == 0x80; };
        while (head > 0 && continuation(head)) --head;
        while (tail < text.size() && continuation(tail)) ++tail;
        shortened = std::string(text.substr(0, head)) + " [... " + std::to_string(tail - head) +
                    " bytes left out ...] " + std::string(text.substr(tail));
        text = shortened;
    }
    std::string line;
    line.reserve(text.size());
    for (char c : text) {
        const auto byte = uint8_t(c);
        if (c == '\n') {
            line += "\\n";
        } else if (c == '\r') {
            line += "\\r";
        } else if (c == '\t') {
            line += "\\t";
        } else if (byte < 0x20 || byte == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            line += "\\x";
            line += kHex[byte >> 4];
            line += kHex[byte & 15];
        } else {
            line += c;
        }
    }
    return line;
}

// What went wrong, as a C API status (hm_status): 0 is success, every failure is negative.
enum class Status : int {
    Ok = 0,
    BadArgument = -1,  // a parameter out of its domain, a NULL handle, a malformed selection
    BadInput = -2,     // a file or bytes that are broken or hostile (model, tokenizer, saved maps)
    Unsupported = -3,  // a model family, dtype or format headmap does not handle
    OutOfRange = -4,   // a layer, head, length or size past its limit
    Io = -5,           // a file that cannot be read or written
    NoDevice = -6,     // a CUDA device was asked for and there is none
    Cancelled = -7,    // a callback asked to stop
    OutOfMemory = -8,  // an allocation failed
    BufferTooSmall = -9,  // a caller's buffer is shorter than the result (the size is reported)
};

struct Error : std::runtime_error {
    explicit Error(const std::string& message, Status status = Status::BadInput)
        : std::runtime_error(one_line(message)), status_(status) {}
    Status status() const noexcept { return status_; }

  private:
    Status status_;
};

// The C API's side of errors (include/headmap/headmap.h): each hm_ function runs its body through
// api_call, which turns any exception into a status and this thread's message (hm_last_error).
// Header-only so that every room's C entry points share one message per thread.
namespace api {

inline thread_local std::string last_error_message;

template <class Body>
int call(Body&& body, std::string* also = nullptr) noexcept {
    Status status = Status::Ok;
    try {
        body();
        return 0;
    } catch (const Error& e) {
        status = e.status();
        last_error_message = e.what();
    } catch (const std::bad_alloc&) {
        status = Status::OutOfMemory;
        last_error_message = "out of memory";
    } catch (const std::exception& e) {
        status = Status::BadInput;
        last_error_message = one_line(e.what());
    } catch (...) {
        status = Status::BadInput;
        last_error_message = "unknown error";
    }
    if (also) {
        try {
            *also = last_error_message;
        } catch (...) {
        }
    }
    return int(status);
}

// A NULL pointer where one is required: Status::BadArgument naming it.
template <class Pointer>
void require(const Pointer pointer, const char* name) {
    if (pointer == nullptr) throw Error(std::string(name) + " is NULL", Status::BadArgument);
}

}  // namespace api

}  // namespace headmap
