// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A simulator's request log: one JSON line per request, appended to a file and kept in memory for
// the control API's GET /log. Each simulator builds its own lines with JsonLine.
#include <cstdint>
#include <deque>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

namespace sim {

// Builds one log line by hand: building an nlohmann::json object per request cost more than the
// HTTP/2 work itself. The output is the same JSON (strings escaped, invalid UTF-8 replaced).
class JsonLine {
public:
    explicit JsonLine(std::uint64_t seq, std::size_t reserve = 512);
    JsonLine& field(std::string_view name, std::string_view value);
    JsonLine& field(std::string_view name, std::int64_t value);
    // A nested object of string values, in the given order.
    template <typename Pairs>
    JsonLine& object(std::string_view name, const Pairs& pairs) {
        begin_object(name);
        for (const auto& [k, v] : pairs) member(k, v);
        out_ += '}';
        return *this;
    }
    // The finished line (without a newline); the builder is spent.
    std::string finish() &&;

private:
    void begin_object(std::string_view name);
    void member(std::string_view name, std::string_view value);
    std::string out_;
    bool first_member_ = true;
};

// Appends s as a JSON string (quoted, escaped, bad UTF-8 bytes as U+FFFD).
void append_json_string(std::string& out, std::string_view s);

class JsonlLog {
public:
    JsonlLog(const std::string& file, std::size_t keep);
    // The next entry's seq, or 0 when nobody would read it (no file, nothing kept): the caller
    // need not build a line. Every request counts, read or not.
    std::uint64_t begin() noexcept {
        ++seq_;
        return file_.is_open() || keep_ > 0 ? seq_ : 0;
    }
    void add(std::uint64_t seq, std::string line);
    // Entries with seq > since, as a JSON array text (each entry carries its "seq").
    std::string since(std::uint64_t since) const;
    std::uint64_t last_seq() const noexcept { return seq_; }
    void flush();
    void clear();

private:
    std::ofstream file_;
    std::size_t keep_;
    std::uint64_t seq_ = 0;
    std::deque<std::pair<std::uint64_t, std::string>> lines_;
    bool dirty_ = false;
};

}  // namespace sim
