// SPDX-License-Identifier: BSD-2-Clause
#include "requests/log.hpp"

#include <stdexcept>

namespace apns_sim {

RequestLog::RequestLog(const std::string& file, std::size_t keep) : keep_(keep) {
    if (!file.empty()) {
        file_.open(file, std::ios::app);
        if (!file_) throw std::runtime_error("--log: cannot open " + file + " for appending");
    }
}

namespace {

// The log line is written by hand: building an nlohmann::json object per request cost more than
// the HTTP/2 work itself. Output is the same JSON (strings escaped, invalid UTF-8 replaced).
void append_escaped(std::string& out, std::string_view s) {
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

void field(std::string& out, std::string_view name, std::string_view value) {
    out += ",\"";
    out += name;
    out += "\":";
    append_escaped(out, value);
}

void field(std::string& out, std::string_view name, std::int64_t value) {
    out += ",\"";
    out += name;
    out += "\":";
    out += std::to_string(value);
}

}  // namespace

void RequestLog::add(const LogEntry& e) {
    ++seq_;
    if (!file_.is_open() && keep_ == 0) return;
    std::string line;
    line.reserve(512 + e.payload.size());
    line += "{\"seq\":";
    line += std::to_string(seq_);
    field(line, "time_ms", e.time_ms);
    field(line, "received_us", e.received_us);
    field(line, "connection", static_cast<std::int64_t>(e.connection));
    field(line, "stream", e.stream);
    field(line, "method", e.method);
    field(line, "path", e.path);
    field(line, "token", e.token);
    line += ",\"headers\":{";
    bool first = true;
    for (const auto& [k, v] : e.apns_headers) {
        if (!first) line += ',';
        first = false;
        append_escaped(line, k);
        line += ':';
        append_escaped(line, v);
    }
    line += '}';
    field(line, "auth", e.auth);
    field(line, "key_id", e.key_id);
    field(line, "team_id", e.team_id);
    field(line, "payload", e.payload);
    field(line, "status", e.status);
    field(line, "reason", e.reason);
    field(line, "apns_id", e.apns_id);
    field(line, "fault", e.fault);
    line += '}';
    if (file_.is_open()) {
        file_ << line << '\n';
        dirty_ = true;
    }
    if (keep_ > 0) {
        lines_.emplace_back(seq_, std::move(line));
        if (lines_.size() > keep_) lines_.pop_front();
    }
}

std::string RequestLog::since(std::uint64_t since) const {
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

void RequestLog::flush() {
    if (dirty_) {
        file_.flush();
        dirty_ = false;
    }
}

void RequestLog::clear() { lines_.clear(); }

void Counters::count_response(int status, const std::string& reason) {
    ++statuses_[status];
    if (reason.empty()) return;
    auto it = reasons_.find(reason);
    if (it != reasons_.end()) ++it->second;
    else reasons_.emplace(reason, 1);
}

nlohmann::json Counters::to_json() const {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : values_) j[k] = v;
    nlohmann::json s = nlohmann::json::object();
    for (const auto& [k, v] : statuses_) s[std::to_string(k)] = v;
    nlohmann::json r = nlohmann::json::object();
    for (const auto& [k, v] : reasons_) r[k] = v;
    j["status"] = s;
    j["reason"] = r;
    return j;
}

void Counters::clear() {
    // connections_open describes the present, not the past: keep it across a reset.
    auto open = slot("connections_open");
    values_.clear();
    slot("connections_open") = open;
    statuses_.clear();
    reasons_.clear();
}

}  // namespace apns_sim
