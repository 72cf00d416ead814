// SPDX-License-Identifier: BSD-2-Clause
// The shared fixture of the pushsyncctl tests (see cli_fixture.hpp).
#include "tests/cli/cli_fixture.hpp"

#include <cstdio>
#include <sstream>

namespace pushsync::test {

CliTest::CliTest() { write_config(); }

void CliTest::write_config(const std::string& extra, std::uint32_t queue_capacity) const {
    write_file(config_path(), "store:\n  path: " + store_path() + "\n  map_size: 64MiB\n" +
                                  "queue:\n  path: " + queue_path() + "\n  capacity: " + std::to_string(queue_capacity) +
                                  "\n" +
                                  "apps:\n"
                                  "  - bundle_id: com.example.app\n"
                                  "    auth: {type: token, team_id: ABCDE12345, key_id: ABC123DEFG, key_file: /nonexistent.p8}\n"
                                  "  - bundle_id: com.example.legacy\n"
                                  "    auth: {type: certificate, cert_file: /nonexistent.pem, key_file: /nonexistent.key}\n" +
                                  extra);
}

std::string cli_binary() { return (binary_dir() / "cli" / "pushsyncctl").string(); }

CommandResult CliTest::ctl(std::vector<std::string> args, std::string_view input) const {
    std::vector<std::string> argv{cli_binary(), "--config", config_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, input);
}

std::unique_ptr<Store> CliTest::open_store() const {
    StoreOptions options;
    options.path = store_path();
    options.map_size = 64ull << 20;
    return std::make_unique<Store>(options);
}

Device CliTest::add(Store& store, const std::string& token, const std::string& group, const std::string& bundle,
                    Environment env, const std::string& app_version, std::int64_t at_ms) {
    Registration r;
    r.token = token;
    r.group = group;
    r.bundle_id = bundle;
    r.environment = env;
    r.app_version = app_version;
    return store.register_device(r, at_ms ? at_ms : now_unix_ms()).device;
}

std::string token_of(unsigned n, std::size_t length) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016x", n);
    std::string token(length, '0');
    token.replace(length - 16, 16, buf);
    return token;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace pushsync::test
