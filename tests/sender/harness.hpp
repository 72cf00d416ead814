// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A real store (and queue) in a temp dir, a pushsync.yaml parsed by the real loader, and the fakes.
#include <filesystem>
#include <memory>
#include <string>

#include "shared/config/config.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"
#include "tests/support/process.hpp"

namespace pushsync::sender::test {

inline constexpr const char* token_a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
inline constexpr const char* token_b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
inline constexpr const char* token_c = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
inline constexpr const char* token_d = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";

// Apps: com.example.app (token, both environments) and com.example.other (same credentials,
// production only) share one connection per environment; com.example.legacy (certificate) has its own.
inline std::string test_yaml(const std::filesystem::path& dir, const std::string& delivery) {
    return "store:\n  path: " + (dir / "store").string() + "\n  map_size: 64MiB\n  max_devices_per_group: 0\n" +
           "queue:\n  path: " + (dir / "queue").string() + "\n  capacity: 1024\n" + "delivery:\n" + delivery +
           "apns:\n  production: https://127.0.0.1:1\n  sandbox: https://127.0.0.1:2\n" +
           "apps:\n"
           "  - bundle_id: com.example.app\n"
           "    auth:\n      type: token\n      team_id: ABCDE12345\n      key_id: ABC123DEFG\n"
           "      key_file: " + (dir / "AuthKey.p8").string() + "\n" +
           "  - bundle_id: com.example.other\n    environments: [production]\n"
           "    auth:\n      type: token\n      team_id: ABCDE12345\n      key_id: ABC123DEFG\n"
           "      key_file: " + (dir / "AuthKey.p8").string() + "\n" +
           "  - bundle_id: com.example.legacy\n"
           "    auth:\n      type: certificate\n      cert_file: " + (dir / "legacy.pem").string() +
           "\n      key_file: " + (dir / "legacy.key").string() + "\n";
}

struct Harness {
    explicit Harness(const std::string& delivery = "  coalesce_ms: 0\n  max_attempts: 4\n  retry_base_ms: 100\n  retry_max_ms: 1000\n")
        : config(parse_config(test_yaml(dir.path(), delivery), (dir / "pushsync.yaml").string())),
          store(std::make_unique<Store>(StoreOptions::from(config.store))) {}

    void add(const char* token, const std::string& group, const std::string& bundle = "com.example.app",
             Environment env = Environment::production, std::int64_t now_ms = 1'700'000'000'000) {
        store->register_device(Registration{token, group, bundle, env, ""}, now_ms);
    }

    pushsync::test::TempDir dir;
    Config config;
    std::unique_ptr<Store> store;
};

}  // namespace pushsync::sender::test
