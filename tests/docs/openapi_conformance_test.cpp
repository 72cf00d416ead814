// SPDX-License-Identifier: BSD-2-Clause
// docs/openapi.yaml against the real thing: every request and error case the document describes,
// sent to a real nginx with the built module, each exchange recorded (method, path, request body,
// status, headers, body) to a JSONL file, then checked by tests/docs/conformance.mjs with Ajv —
// status, headers and body against the document, and every documented answer reached at least once.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/nginx_fixture.hpp"
#include "tests/support/process.hpp"

namespace pushsync::test {
namespace {

const std::string t1 = "3f9a0000000000000000000000000001";
const std::string t2 = "3F9A0000000000000000000000000002";  // upper case: stored in lower
const std::string t3 = "3f9a0000000000000000000000000003";
const std::string t4 = "3f9a0000000000000000000000000004";
const std::string stranger = "3f9a00000000000000000000000000ff";

std::string reg(const std::string& bundle = "com.example.app", const std::string& extra = "") {
    return R"({"bundle_id":")" + bundle + "\"" + extra + "}";
}

// Appends every exchange to one JSONL file, the input of conformance.mjs.
class Recorder {
public:
    explicit Recorder(std::filesystem::path path) : path_(std::move(path)), out_(path_, std::ios::trunc) {}

    // `base`: the location prefix the request goes to ("/v1", "/pushsync").
    HttpResponse send(const NginxFixture& nginx, const std::string& name, const std::string& base,
                      std::string_view method, const std::string& path, std::string_view body = {},
                      const std::vector<std::string>& headers = {}) {
        HttpResponse r = method == "HEAD" ? head(nginx, path) : nginx.request(method, path, body, headers);
        EXPECT_NE(r.status, 0) << name << ": " << r.error;
        nlohmann::json request_headers = nlohmann::json::object();
        for (const auto& h : headers) {
            const auto colon = h.find(':');
            request_headers[h.substr(0, colon)] = colon == std::string::npos ? "" : h.substr(colon + 1);
        }
        out_ << nlohmann::json{{"name", name},
                               {"base", base},
                               {"method", method},
                               {"path", path},
                               {"request_headers", request_headers},
                               {"request_body", body},
                               {"status", r.status},
                               {"headers", r.headers},
                               {"body", r.body}}
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
             << '\n';
        out_.flush();
        return r;
    }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    // curl's -X HEAD waits for a body HEAD never has: --head asks properly.
    static HttpResponse head(const NginxFixture& nginx, const std::string& path) {
        const CommandResult result = run({"curl", "-sS", "--max-time", "20", "--http1.1", "--head", nginx.url(path)});
        HttpResponse r;
        if (result.exit_code != 0) {
            r.error = result.err;
            return r;
        }
        std::istringstream lines(result.out);
        std::string line;
        while (std::getline(lines, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.empty()) break;
            if (r.status == 0) {
                r.protocol = line.substr(0, line.find(' '));
                r.status = std::stoi(line.substr(line.find(' ') + 1, 3));
                continue;
            }
            const auto colon = line.find(':');
            std::string key = line.substr(0, colon);
            for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[key] = line.substr(line.find_first_not_of(' ', colon + 1));
        }
        return r;
    }

    std::filesystem::path path_;
    std::ofstream out_;
};

// One nginx answering every case of the document a running store and queue can bring about;
// locations with the per-location directives beside the plain /v1/.
void exercise_running_server(Recorder& rec) {
    NginxFixture nginx(NginxOptions{
        .queue_capacity = 8,
        .store_yaml = "  max_devices_per_group: 3\n",
        .server_extra = "location /v1-origin/ { pushsync_api; pushsync_require_origin on; }\n"
                        "    location /v1-off/ { pushsync_api; pushsync_push off; }\n"
                        "    location /v1-tokens/ { pushsync_api; pushsync_list_tokens on; }\n"});
    const std::string g = "/v1/groups/g-7c1e";
    const std::string dev = g + "/devices";

    // --- register ---------------------------------------------------------------------------
    rec.send(nginx, "list before any device", "/v1", "GET", dev);
    rec.send(nginx, "register new", "/v1", "PUT", dev + "/" + t1, reg("com.example.app", R"(,"app_version":"4.1")"));
    rec.send(nginx, "register again: refresh", "/v1", "PUT", dev + "/" + t1, reg("com.example.app", R"(,"environment":"production")"));
    rec.send(nginx, "register upper-case token, sandbox, unknown field", "/v1", "PUT", dev + "/" + t2,
             reg("com.example.app", R"(,"environment":"sandbox","future":true)"), {"Content-Type: application/json; charset=utf-8"});
    rec.send(nginx, "register invalid group", "/v1", "PUT", "/v1/groups/g!x/devices/" + t1, reg());
    rec.send(nginx, "register invalid token", "/v1", "PUT", dev + "/xyz", reg());
    rec.send(nginx, "register odd-length token", "/v1", "PUT", dev + "/" + t1 + "a", reg());
    rec.send(nginx, "register body not JSON", "/v1", "PUT", dev + "/" + t3, "not json");
    rec.send(nginx, "register body a JSON array", "/v1", "PUT", dev + "/" + t3, "[]");
    rec.send(nginx, "register without body", "/v1", "PUT", dev + "/" + t3);
    rec.send(nginx, "register without bundle_id", "/v1", "PUT", dev + "/" + t3, "{}");
    rec.send(nginx, "register bundle_id a number", "/v1", "PUT", dev + "/" + t3, R"({"bundle_id":5})");
    rec.send(nginx, "register app_version too long", "/v1", "PUT", dev + "/" + t3,
             reg("com.example.app", R"(,"app_version":")" + std::string(65, 'v') + "\""));
    rec.send(nginx, "register unknown environment", "/v1", "PUT", dev + "/" + t3, reg("com.example.app", R"(,"environment":"staging")"));
    rec.send(nginx, "register environment the app does not allow", "/v1", "PUT", dev + "/" + t3,
             reg("com.example.prodonly", R"(,"environment":"sandbox")"));
    rec.send(nginx, "register unknown bundle", "/v1", "PUT", dev + "/" + t3, reg("com.example.other"));
    rec.send(nginx, "register text/plain body", "/v1", "PUT", dev + "/" + t3, reg(), {"Content-Type: text/plain"});
    rec.send(nginx, "register body over 4 KiB", "/v1", "PUT", dev + "/" + t3,
             reg("com.example.app", R"(,"pad":")" + std::string(5000, 'p') + "\""));
    rec.send(nginx, "register a third device", "/v1", "PUT", dev + "/" + t3, reg("com.example.prodonly"));
    rec.send(nginx, "register past max_devices_per_group", "/v1", "PUT", dev + "/" + t4, reg());

    // --- list -------------------------------------------------------------------------------
    rec.send(nginx, "list", "/v1", "GET", dev);
    const HttpResponse first = rec.send(nginx, "list, first page of one", "/v1", "GET", dev + "?limit=1");
    const auto page = nlohmann::json::parse(first.body, nullptr, false);
    ASSERT_TRUE(page.is_object() && page.contains("next")) << first.body;
    rec.send(nginx, "list, next page", "/v1", "GET", dev + "?limit=1&cursor=" + page["next"].get<std::string>());
    rec.send(nginx, "list with full tokens", "/v1-tokens", "GET", "/v1-tokens/groups/g-7c1e/devices?limit=2");
    rec.send(nginx, "list limit 0", "/v1", "GET", dev + "?limit=0");
    rec.send(nginx, "list limit 1001", "/v1", "GET", dev + "?limit=1001");
    rec.send(nginx, "list cursor not ours", "/v1", "GET", dev + "?cursor=AAAA");
    rec.send(nginx, "list cursor of another group", "/v1", "GET",
             "/v1/groups/other/devices?cursor=" + page["next"].get<std::string>());
    rec.send(nginx, "list invalid group", "/v1", "GET", "/v1/groups/g!x/devices");

    // --- notify -----------------------------------------------------------------------------
    rec.send(nginx, "notify", "/v1", "POST", g + "/notify", R"({"tail":"T-000042"})");
    rec.send(nginx, "notify with origin", "/v1", "POST", g + "/notify", R"({"tail":"T-000043","origin":")" + t1 + "\"}");
    rec.send(nginx, "notify unknown group", "/v1", "POST", "/v1/groups/nobody/notify", R"({"tail":"T-1"})");
    rec.send(nginx, "notify invalid group", "/v1", "POST", "/v1/groups/g!x/notify", R"({"tail":"T-1"})");
    rec.send(nginx, "notify body not JSON", "/v1", "POST", g + "/notify", "{");
    rec.send(nginx, "notify without tail", "/v1", "POST", g + "/notify", "{}");
    rec.send(nginx, "notify bad tail", "/v1", "POST", g + "/notify", R"({"tail":"a b"})");
    rec.send(nginx, "notify tail a number", "/v1", "POST", g + "/notify", R"({"tail":42})");
    rec.send(nginx, "notify origin not a token", "/v1", "POST", g + "/notify", R"({"tail":"T-1","origin":"zz"})");
    rec.send(nginx, "notify text/plain body", "/v1", "POST", g + "/notify", R"({"tail":"T-1"})", {"Content-Type: text/plain"});
    rec.send(nginx, "notify body over 4 KiB", "/v1", "POST", g + "/notify",
             R"({"tail":"T-1","pad":")" + std::string(5000, 'p') + "\"}");
    rec.send(nginx, "register the only device of a group", "/v1", "PUT", "/v1/groups/alone/devices/" + t4, reg());
    rec.send(nginx, "notify from the group's only device", "/v1", "POST", "/v1/groups/alone/notify",
             R"({"tail":"T-1","origin":")" + t4 + "\"}");
    rec.send(nginx, "notify with pushsync_push off", "/v1-off", "POST", "/v1-off/groups/g-7c1e/notify", R"({"tail":"T-1"})");
    rec.send(nginx, "notify, origin required and none given", "/v1-origin", "POST", "/v1-origin/groups/g-7c1e/notify",
             R"({"tail":"T-1"})");
    rec.send(nginx, "notify, origin required and a stranger", "/v1-origin", "POST", "/v1-origin/groups/g-7c1e/notify",
             R"({"tail":"T-1","origin":")" + stranger + "\"}");
    rec.send(nginx, "notify, origin required and a member", "/v1-origin", "POST", "/v1-origin/groups/g-7c1e/notify",
             R"({"tail":"T-1","origin":")" + t1 + "\"}");
    // No sender runs: the queue of 8 fills.
    HttpResponse r;
    for (int i = 0; i < 10 && r.status != 503; ++i) {
        r = rec.send(nginx, "notify until the queue is full", "/v1", "POST", g + "/notify", R"({"tail":"T-fill"})");
    }
    EXPECT_EQ(r.status, 503) << r.body;

    // --- unregister -------------------------------------------------------------------------
    rec.send(nginx, "unregister", "/v1", "DELETE", dev + "/" + t3);
    rec.send(nginx, "unregister again", "/v1", "DELETE", dev + "/" + t3);
    rec.send(nginx, "unregister invalid token", "/v1", "DELETE", dev + "/xyz");
    rec.send(nginx, "unregister invalid group", "/v1", "DELETE", "/v1/groups/g!x/devices/" + t1);

    // --- what no operation answers ----------------------------------------------------------
    rec.send(nginx, "PATCH a device", "/v1", "PATCH", dev + "/" + t1, reg());
    rec.send(nginx, "GET a device", "/v1", "GET", dev + "/" + t1);
    rec.send(nginx, "POST the devices", "/v1", "POST", dev, reg());
    rec.send(nginx, "GET notify", "/v1", "GET", g + "/notify");
    rec.send(nginx, "POST the status", "/pushsync", "POST", "/pushsync/status", "{}");
    rec.send(nginx, "DELETE the metrics", "/pushsync", "DELETE", "/pushsync/metrics");
    rec.send(nginx, "unknown path", "/v1", "GET", "/v1/nothing");
    rec.send(nginx, "unknown path below a group", "/v1", "GET", g + "/other");
    rec.send(nginx, "too deep a path", "/v1", "GET", dev + "/" + t1 + "/more");

    // --- operations -------------------------------------------------------------------------
    rec.send(nginx, "status", "/pushsync", "GET", "/pushsync/status");
    rec.send(nginx, "status, headers only", "/pushsync", "HEAD", "/pushsync/status");
    rec.send(nginx, "metrics", "/pushsync", "GET", "/pushsync/metrics");
    rec.send(nginx, "metrics, headers only", "/pushsync", "HEAD", "/pushsync/metrics");
}

// A store LMDB cannot open (a file where its folder should be): every API request that needs it.
void exercise_unopenable_store(Recorder& rec) {
    NginxFixture nginx(NginxOptions{.start = false});
    write_file(nginx.store_path(), "not a directory");
    nginx.start();
    rec.send(nginx, "register, store unavailable", "/v1", "PUT", "/v1/groups/g/devices/" + t1, reg());
    rec.send(nginx, "unregister, store unavailable", "/v1", "DELETE", "/v1/groups/g/devices/" + t1);
    rec.send(nginx, "list, store unavailable", "/v1", "GET", "/v1/groups/g/devices");
    rec.send(nginx, "notify, store unavailable", "/v1", "POST", "/v1/groups/g/notify", R"({"tail":"T-1"})");
}

// A queue file that is not one: the operations endpoints have nothing to report.
void exercise_unopenable_queue(Recorder& rec) {
    NginxFixture nginx(NginxOptions{.start = false});
    write_file(nginx.queue_path(), "not a queue");
    nginx.start();
    rec.send(nginx, "status, queue unavailable", "/pushsync", "GET", "/pushsync/status");
    rec.send(nginx, "status headers, queue unavailable", "/pushsync", "HEAD", "/pushsync/status");
    rec.send(nginx, "metrics, queue unavailable", "/pushsync", "GET", "/pushsync/metrics");
    rec.send(nginx, "metrics headers, queue unavailable", "/pushsync", "HEAD", "/pushsync/metrics");
}

// A small map: registrations until the store is full.
void exercise_full_store(Recorder& rec) {
    NginxFixture nginx(NginxOptions{.map_size = "128KiB"});
    HttpResponse r;
    for (unsigned i = 0; i < 2000 && r.status != 507; ++i) {
        const std::string token = "3f9a" + std::string(24 - std::to_string(i).size(), '0') + std::to_string(i) + "0000";
        r = rec.send(nginx, "register until the store is full", "/v1", "PUT",
                     "/v1/groups/g" + std::to_string(i) + "/devices/" + token,
                     reg("com.example.app", R"(,"app_version":")" + std::string(60, 'v') + "\""));
    }
    EXPECT_EQ(r.status, 507) << r.body;
}

TEST(OpenApiConformance, EveryDocumentedAnswerOfTheRealModuleMatchesDocsOpenapiYaml) {
    Recorder rec(binary_dir() / "tests/docs/openapi_exchanges.jsonl");
    exercise_running_server(rec);
    exercise_unopenable_store(rec);
    exercise_unopenable_queue(rec);
    exercise_full_store(rec);

    const CommandResult check = run({PUSHSYNC_NODE, (source_dir() / "tests/docs/conformance.mjs").string(),
                                     rec.path().string(), (source_dir() / "docs/openapi.yaml").string()});
    EXPECT_EQ(check.exit_code, 0) << check.err << check.out;
    std::cout << check.out;
}

}  // namespace
}  // namespace pushsync::test
