// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Client traffic for the shard tests: names, and many requests over a few keep-alive connections.
#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.hpp"

namespace pushsync::test {

inline std::string token_of(int i, char fill) {
    const std::string n = std::to_string(i);
    return std::string(64 - n.size(), fill) + n;
}

inline std::string group_of(int i) {
    return "g" + std::to_string(i) + "-" + std::to_string((i * 2654435761u) % 1000003u);
}

struct Call {
    std::string method;
    std::string path;
    std::string body;
};

inline Call register_call(const std::string& group, const std::string& token) {
    return {"PUT", "/v1/groups/" + group + "/devices/" + token, R"({"bundle_id":"com.example.app"})"};
}

inline Call notify_call(const std::string& group, const std::string& tail, const std::string& origin = "") {
    nlohmann::json body = {{"tail", tail}};
    if (!origin.empty()) body["origin"] = origin;
    return {"POST", "/v1/groups/" + group + "/notify", body.dump()};
}

// Runs the calls over `connections` keep-alive connections; answers in the calls' order.
inline std::vector<HttpAnswer> run_calls(int port, const std::vector<Call>& calls, int connections = 4) {
    std::vector<HttpAnswer> answers(calls.size());
    std::vector<std::thread> threads;
    for (int c = 0; c < connections; ++c) {
        threads.emplace_back([&, c] {
            HttpClient client(port);
            for (std::size_t i = static_cast<std::size_t>(c); i < calls.size(); i += static_cast<std::size_t>(connections)) {
                answers[i] = client.request(calls[i].method, calls[i].path, calls[i].body);
            }
        });
    }
    for (auto& t : threads) t.join();
    return answers;
}

}  // namespace pushsync::test
