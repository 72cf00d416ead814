// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Named monotonically growing numbers of a simulator, answered by its GET /counters.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sim {

class Counters {
public:
    void add(std::string_view name, std::uint64_t n = 1) { slot(name) += n; }
    void sub(std::string_view name, std::uint64_t n = 1) { slot(name) -= n; }
    // Counts an answer by its HTTP status and, when there is one, its reason or error code.
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

}  // namespace sim
