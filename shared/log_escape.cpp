// SPDX-License-Identifier: BSD-2-Clause
#include "shared/log_escape.hpp"

namespace pushsync {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool needs_escape(unsigned char c) noexcept { return c < 0x20 || c >= 0x7f || c == '"' || c == '\\'; }
bool bare(unsigned char c) noexcept { return !needs_escape(c) && c != ' '; }

bool all_bare(std::string_view value) noexcept {
    if (value.empty()) return false;
    for (unsigned char c : value)
        if (!bare(c)) return false;
    return true;
}

// Writes one byte of `value`, escaped if need be, through `put`.
template <typename Put>
void put_escaped(unsigned char c, const Put& put) {
    if (!needs_escape(c)) {
        put(static_cast<char>(c));
        return;
    }
    put('\\');
    put('x');
    put(kHex[c >> 4]);
    put(kHex[c & 15]);
}

}  // namespace

std::string log_escape(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (unsigned char c : value) put_escaped(c, [&](char e) { out.push_back(e); });
    return out;
}

std::string log_value(std::string_view value) {
    if (all_bare(value)) return std::string(value);
    // Appended, not "\"" + log_escape(value): g++ 12 at -O3 reports a false -Wrestrict overlap
    // inside operator+(const char*, std::string&&) (GCC bug 105651).
    std::string quoted(1, '"');
    quoted += log_escape(value);
    quoted += '"';
    return quoted;
}

std::size_t log_value_into(char* out, std::size_t capacity, std::string_view value) noexcept {
    const bool quoted = !all_bare(value);
    // Room kept back for the closing quote and "..." should the value not fit.
    const std::size_t reserve = (quoted ? 1 : 0) + 3;
    if (capacity < reserve + (quoted ? 1 : 0)) return 0;
    std::size_t n = 0;
    if (quoted) out[n++] = '"';
    bool cut = false;
    for (unsigned char c : value) {
        const std::size_t width = needs_escape(c) ? 4 : 1;
        if (n + width > capacity - reserve) {
            cut = true;
            break;
        }
        put_escaped(c, [&](char e) { out[n++] = e; });
    }
    if (cut)
        for (int i = 0; i < 3; ++i) out[n++] = '.';
    if (quoted) out[n++] = '"';
    return n;
}

}  // namespace pushsync
