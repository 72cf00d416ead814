// SPDX-License-Identifier: BSD-2-Clause
#include "control_server.hpp"

#include <charconv>
#include <stdexcept>

#include "apns_server.hpp"

namespace apns_sim {

namespace {

using sim::control_error;
using sim::control_ok;
using sim::parse_json_body;

}  // namespace

ControlServer::ControlServer(struct ev_loop* loop, Simulator& sim, ApnsServer& apns, UniqueFd listener)
    : sim_(sim), apns_(apns),
      http_(loop, std::move(listener), [this](const std::string& method, const std::string& target, const std::string& body) {
          return handle(method, target, body);
      }) {}

ControlResponse ControlServer::handle(const std::string& method, const std::string& target, const std::string& body) {
    auto qmark = target.find('?');
    std::string path = target.substr(0, qmark);
    std::string query = qmark == std::string::npos ? "" : target.substr(qmark + 1);

    if (path == "/health" && method == "GET") {
        return control_ok({{"ok", true},
                   {"environment", to_string(sim_.opt.environment)},
                   {"now_ms", sim_.clock.now_ms()},
                   {"connections", apns_.open_connections()}});
    }
    if (path.rfind("/tokens/", 0) == 0) {
        std::string token = path.substr(8);
        if (token.empty()) return control_error(400, "missing token");
        if (method == "POST" || method == "PUT") {
            sim_.registry.mark(token, parse_json_body(body), sim_.clock.now_ms());
            return control_ok({{"ok", true}});
        }
        if (method == "DELETE") return control_ok({{"removed", sim_.registry.forget(token)}});
        return control_error(405, "use POST or DELETE");
    }
    if (path == "/tokens" && method == "GET") return control_ok(sim_.registry.to_json());
    if (path == "/tokens" && method == "POST") {
        // many at once: {"<token>": {"state": ...}, ...}
        auto j = parse_json_body(body);
        if (!j.is_object()) throw std::invalid_argument("body must map tokens to marks");
        for (const auto& [token, mark] : j.items()) sim_.registry.mark(token, mark, sim_.clock.now_ms());
        return control_ok({{"marked", j.size()}});
    }
    if (path == "/faults") {
        if (method == "POST") return control_ok({{"id", sim_.faults.add(parse_json_body(body))}});
        if (method == "GET") return control_ok(sim_.faults.to_json());
        if (method == "DELETE") {
            sim_.faults.clear();
            return control_ok({{"ok", true}});
        }
        return control_error(405, "use GET, POST or DELETE");
    }
    if (path == "/goaway" && method == "POST") {
        auto j = parse_json_body(body);
        std::string debug = j.value("debug", std::string());
        if (debug.empty() && j.contains("reason")) debug = nlohmann::json{{"reason", j.value("reason", std::string())}}.dump();
        apns_.goaway_all(j.value("last_stream_id", -1), j.value("error_code", 0u), debug);
        return control_ok({{"ok", true}});
    }
    if (path == "/log" && method == "GET") {
        std::uint64_t since = 0;
        auto s = sim::query_param(query, "since");
        std::from_chars(s.data(), s.data() + s.size(), since);
        return {200, sim_.log.since(since)};
    }
    if (path == "/counters" && method == "GET") {
        auto j = sim_.counters.to_json();
        j["log_seq"] = sim_.log.last_seq();
        return control_ok(j);
    }
    if (path == "/connections" && method == "GET") return control_ok(apns_.connections_json());
    if (path == "/clock") {
        if (method == "POST") {
            auto j = parse_json_body(body);
            if (!j.contains("offset_s") || !j["offset_s"].is_number_integer()) throw std::invalid_argument("offset_s must be an integer");
            sim_.clock.set_offset_s(j["offset_s"].get<std::int64_t>());
        } else if (method != "GET") {
            return control_error(405, "use GET or POST");
        }
        return control_ok({{"offset_s", sim_.clock.offset_s()}, {"now_s", sim_.clock.now_s()}, {"now_ms", sim_.clock.now_ms()}});
    }
    if (path == "/reset" && method == "POST") {
        sim_.registry.clear();
        sim_.faults.clear();
        sim_.log.clear();
        sim_.counters.clear();
        sim_.token_rate.clear();
        sim_.clock.set_offset_s(0);
        return control_ok({{"ok", true}});
    }
    return control_error(404, "no such endpoint: " + method + " " + path + " (see apns-sim --help)");
}

}  // namespace apns_sim
