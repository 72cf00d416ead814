// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/api/log_uri.hpp"

#include <vector>

namespace pushsync::api {
namespace {

// A part of the line to replace: [begin, end) of the line, by what the token decodes to.
struct Cut {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::string decoded;
};

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The character at `i` of `text`, a %XX escape decoded; `length` is what it took of the text.
char decoded_at(std::string_view text, std::size_t i, std::size_t& length) noexcept {
    if (text[i] == '%' && i + 2 < text.size()) {
        const int hi = hex_value(text[i + 1]);
        const int lo = hex_value(text[i + 2]);
        if (hi >= 0 && lo >= 0) {
            length = 3;
            return static_cast<char>(hi * 16 + lo);
        }
    }
    length = 1;
    return text[i];
}

std::string decoded(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t length = 0;
    for (std::size_t i = 0; i < text.size(); i += length) out += decoded_at(text, i, length);
    return out;
}

void cut_if_long(std::size_t begin, std::size_t end, std::string value, std::vector<Cut>& cuts) {
    if (value.size() > logged_token_chars) cuts.push_back({begin, end, std::move(value)});
}

// `path` starts at `offset` of the line. Segments are resolved on a stack as nginx resolves
// them; one pushed right after "groups", any, "devices" is a token.
void cut_path(std::string_view path, std::size_t offset, std::vector<Cut>& cuts) {
    struct Segment {
        std::size_t begin;
        std::size_t end;
        std::string text;
    };
    std::vector<Segment> resolved;
    std::string text;
    std::size_t begin = 0;
    std::size_t length = 0;
    for (std::size_t i = 0; i <= path.size(); i += length) {
        const char c = i < path.size() ? decoded_at(path, i, length) : '/';
        if (i == path.size()) length = 1;
        if (c != '/') {
            text += c;
            continue;
        }
        if (text == "..") {
            if (!resolved.empty()) resolved.pop_back();
        } else if (!text.empty() && text != ".") {
            const std::size_t n = resolved.size();
            if (n >= 3 && resolved[n - 3].text == "groups" && resolved[n - 1].text == "devices") {
                cut_if_long(offset + begin, offset + i, text, cuts);
            }
            resolved.push_back({begin, i, std::move(text)});
        }
        text.clear();
        begin = i + length;
    }
}

void cut_query(std::string_view query, std::size_t offset, std::vector<Cut>& cuts) {
    std::size_t start = 0;
    while (start <= query.size()) {
        std::size_t amp = query.find('&', start);
        if (amp == std::string_view::npos) amp = query.size();
        const std::string_view pair = query.substr(start, amp - start);
        const std::size_t eq = pair.find('=');
        if (eq != std::string_view::npos) {
            const std::string name = decoded(pair.substr(0, eq));
            if (name == "token" || name == "after") {
                cut_if_long(offset + start + eq + 1, offset + amp, decoded(pair.substr(eq + 1)), cuts);
            }
        }
        start = amp + 1;
    }
}

// What stands for a cut token: its first characters, those a token may hold as they are and any
// other %-escaped (so the log line stays one line of printable ASCII), then the marker.
void append_prefix(std::string& out, std::string_view token) {
    static const char hex[] = "0123456789ABCDEF";
    for (const char c : token.substr(0, logged_token_chars)) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_' || c == ':' || c == '.' || c == '~';
        if (plain) {
            out += c;
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 15];
        }
    }
    out += cut_marker;
}

}  // namespace

std::string log_uri(std::string_view line) {
    // METHOD SP TARGET [SP PROTOCOL]; a line without a target has no token to cut.
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return std::string(line);
    const std::size_t start = space + 1;
    std::size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view target = line.substr(start, end - start);
    const std::size_t question = target.find('?');

    std::vector<Cut> cuts;
    cut_path(target.substr(0, question), start, cuts);
    if (question != std::string_view::npos) cut_query(target.substr(question + 1), start + question + 1, cuts);
    if (cuts.empty()) return std::string(line);

    std::string out;
    out.reserve(line.size());
    std::size_t at = 0;
    for (const Cut& cut : cuts) {
        out.append(line.substr(at, cut.begin - at));
        append_prefix(out, cut.decoded);
        at = cut.end;
    }
    out.append(line.substr(at));
    return out;
}

}  // namespace pushsync::api
