// SPDX-License-Identifier: BSD-2-Clause
#include "tools/sim-common/log/jsonl_log.hpp"

#include <stdexcept>

namespace sim {

JsonlLog::JsonlLog(const std::string& file, std::size_t keep) : keep_(keep) {
    if (!file.empty()) {
        file_.open(file, std::ios::app);
        if (!file_) throw std::runtime_error("--log: cannot open " + file + " for appending");
    }
}

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20) {
            switch (c) {
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                default:
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xf];
            }
            ++i;
        } else if (c < 0x80) {
            std::size_t j = i + 1;  // copy the whole run of plain ASCII at once
            while (j < s.size()) {
                auto d = static_cast<unsigned char>(s[j]);
                if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
                ++j;
            }
            out.append(s.data() + i, j - i);
            i = j;
        } else {
            // copy a well-formed UTF-8 sequence, else U+FFFD for the byte
            std::size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
            bool ok = len != 0 && i + len <= s.size();
            for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
            if (ok) {
                out.append(s.substr(i, len));
                i += len;
            } else {
                out += "\xef\xbf\xbd";
                ++i;
            }
        }
    }
    out += '"';
}

JsonLine::JsonLine(std::uint64_t seq, std::size_t reserve) {
    out_.reserve(reserve);
    out_ += "{\"seq\":";
    out_ += std::to_string(seq);
}

JsonLine& JsonLine::field(std::string_view name, std::string_view value) {
    out_ += ",\"";
    out_ += name;
    out_ += "\":";
    append_json_string(out_, value);
    return *this;
}

JsonLine& JsonLine::field(std::string_view name, std::int64_t value) {
    out_ += ",\"";
    out_ += name;
    out_ += "\":";
    out_ += std::to_string(value);
    return *this;
}

void JsonLine::begin_object(std::string_view name) {
    out_ += ",\"";
    out_ += name;
    out_ += "\":{";
    first_member_ = true;
}

void JsonLine::member(std::string_view name, std::string_view value) {
    if (!first_member_) out_ += ',';
    first_member_ = false;
    append_json_string(out_, name);
    out_ += ':';
    append_json_string(out_, value);
}

std::string JsonLine::finish() && {
    out_ += '}';
    return std::move(out_);
}

void JsonlLog::add(std::uint64_t seq, std::string line) {
    if (file_.is_open()) {
        file_ << line << '\n';
        dirty_ = true;
    }
    if (keep_ > 0) {
        lines_.emplace_back(seq, std::move(line));
        if (lines_.size() > keep_) lines_.pop_front();
    }
}

std::string JsonlLog::since(std::uint64_t since) const {
    std::string out = "[";
    bool first = true;
    for (const auto& [seq, line] : lines_) {
        if (seq <= since) continue;
        if (!first) out += ",\n";
        out += line;
        first = false;
    }
    out += "]\n";
    return out;
}

void JsonlLog::flush() {
    if (dirty_) {
        file_.flush();
        dirty_ = false;
    }
}

void JsonlLog::clear() { lines_.clear(); }

}  // namespace sim
