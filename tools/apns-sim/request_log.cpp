#include "request_log.hpp"

#include <stdexcept>

namespace apns_sim {

RequestLog::RequestLog(const std::string& file, std::size_t keep) : keep_(keep) {
    if (!file.empty()) {
        file_.open(file, std::ios::app);
        if (!file_) throw std::runtime_error("--log: cannot open " + file + " for appending");
    }
}

void RequestLog::add(const LogEntry& e) {
    ++seq_;
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [k, v] : e.apns_headers) headers[k] = v;
    nlohmann::json j = {{"seq", seq_},         {"time_ms", e.time_ms}, {"connection", e.connection},
                        {"stream", e.stream},  {"method", e.method},   {"path", e.path},
                        {"token", e.token},    {"headers", headers},   {"auth", e.auth},
                        {"key_id", e.key_id},  {"team_id", e.team_id}, {"payload", e.payload},
                        {"status", e.status},  {"reason", e.reason},   {"apns_id", e.apns_id},
                        {"fault", e.fault}};
    // Payloads are client bytes: replace invalid UTF-8 rather than throw.
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
    if (!reason.empty()) ++reasons_[reason];
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
    auto open = values_["connections_open"];
    values_.clear();
    values_["connections_open"] = open;
    statuses_.clear();
    reasons_.clear();
}

}  // namespace apns_sim
