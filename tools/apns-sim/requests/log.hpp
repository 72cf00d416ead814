// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One JSON line per request, to a file and kept in memory for GET /log; and the counters.
#include <cstdint>
#include <deque>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace apns_sim {

struct LogEntry {
    std::int64_t time_ms = 0;
    // The real clock (no control-API offset) in microseconds, when the request was complete:
    // benchmarks measure notify-to-push latency against it.
    std::int64_t received_us = 0;
    std::uint64_t connection = 0;
    std::int32_t stream = 0;
    std::string method;
    std::string path;
    std::string token;
    std::vector<std::pair<std::string, std::string>> apns_headers;  // apns-* as received
    std::string auth;  // token | certificate | none
    std::string key_id;
    std::string team_id;
    std::string payload;
    int status = 0;    // 0: no answer (fault)
    std::string reason;
    std::string apns_id;
    std::string fault;
};

class RequestLog {
public:
    RequestLog(const std::string& file, std::size_t keep);
    void add(const LogEntry& e);
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

// Named monotonically growing numbers, answered by GET /counters.
class Counters {
public:
    void add(std::string_view name, std::uint64_t n = 1) { slot(name) += n; }
    void sub(std::string_view name, std::uint64_t n = 1) { slot(name) -= n; }
    void count_response(int status, const std::string& reason);
    nlohmann::json to_json() const;
    void clear();

private:
    // Heterogeneous lookup: counting a request allocates nothing once the name exists.
    std::uint64_t& slot(std::string_view name) {
        auto it = values_.find(name);
        return it != values_.end() ? it->second : values_.emplace(std::string(name), 0).first->second;
    }
    std::map<std::string, std::uint64_t, std::less<>> values_;
    std::map<int, std::uint64_t> statuses_;
    std::map<std::string, std::uint64_t, std::less<>> reasons_;
};

}  // namespace apns_sim
