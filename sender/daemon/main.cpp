// SPDX-License-Identifier: BSD-2-Clause
// pushsync-sender --config FILE: delivers queued notifies to APNs (docs/architecture.md).
// Exit status: 0 after SIGTERM/SIGINT, 2 on a bad configuration (one line: file:line: problem),
// 1 when the store, the queue or the event loop cannot be set up.
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "pushsync_version.hpp"
#include "sender/daemon/credentials.hpp"
#include "sender/daemon/daemon.hpp"
#include "sender/logger.hpp"
#include "sender/daemon/secrets.hpp"
#include "sender/daemon/startup_warnings.hpp"
#include "sender/apns/transport.hpp"
#include "sender/fcm/transport.hpp"
#include "shared/config/config.hpp"
#include "shared/log_escape.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace {

constexpr const char* usage =
    "usage: pushsync-sender [--config FILE]   (default /etc/pushsync/pushsync.yaml)\n"
    "       pushsync-sender --version\n";

}  // namespace

int main(int argc, char** argv) {
    using namespace pushsync;
    std::string config_path = default_config_path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--config" || arg == "-c") && i + 1 < argc) {
            config_path = argv[++i];
        } else if (arg.starts_with("--config=")) {
            config_path = std::string(arg.substr(9));
        } else if (arg == "--help" || arg == "-h") {
            std::fputs(usage, stdout);
            return 0;
        } else if (arg == "--version") {
            std::printf("pushsync-sender %.*s\n", static_cast<int>(pushsync::version.size()), pushsync::version.data());
            return 0;
        } else {
            std::fprintf(stderr, "pushsync-sender: unknown argument %s\n%s", argv[i], usage);
            return 2;
        }
    }

    Config config;
    try {
        config = load_config(config_path);
        sender::check_secret_files(config);
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", config_path.c_str(), e.what());
        return 2;
    }

    sender::Logger log(config.sender.log_level);
    sender::warn_about_setup(config, log);
    // A peer closing a TLS connection must surface as a write error on that connection, not
    // kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        // Waiting longer than a request may take to be answered gains nothing.
        sender::DaemonOptions options;
        options.shutdown_grace_ms = std::min<std::uint32_t>(5000, config.apns.request_timeout_ms);
        options.load_credentials = sender::load_credentials;
        // One factory per platform; each connection configuration names its own.
        const auto by_platform = [&log](struct ev_loop* loop) -> sender::TransportFactory {
            auto apns = sender::apns_transport_factory(loop, log);
            auto fcm = sender::fcm_transport_factory(loop, log);
            return [apns = std::move(apns), fcm = std::move(fcm)](const sender::ConnectionConfig& connection,
                                                                  sender::PushTransport::Callback on_response) {
                return connection.platform == Platform::fcm ? fcm(connection, std::move(on_response))
                                                            : apns(connection, std::move(on_response));
            };
        };
        sender::Daemon daemon(config, log, by_platform, options);
        return daemon.run();
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "%s\n", e.what());  // a key or certificate that cannot be used
        return 2;
    } catch (const StoreError& e) {
        log.error("sender.store_unavailable", "path=" + log_value(config.store.path) + " error=\"" + log_escape(e.what()) + "\"");
        return 1;
    } catch (const QueueError& e) {
        log.error("sender.queue_unavailable", "path=" + log_value(config.queue.path) + " error=\"" + log_escape(e.what()) + "\"");
        return 1;
    } catch (const std::exception& e) {
        // A client refuses credentials it cannot use (a key that is not a P-256 PKCS#8, a service
        // account file that is not one…).
        std::fprintf(stderr, "%s: %s\n", config.file.c_str(), e.what());
        return 2;
    }
}
