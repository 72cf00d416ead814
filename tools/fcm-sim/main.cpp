// SPDX-License-Identifier: BSD-2-Clause
// fcm-sim: see --help. One single-threaded libev loop serves the FCM connections and the control API.
#include <ev.h>
#include <signal.h>

#include <iostream>
#include <memory>

#include "control_server.hpp"
#include "fcm_server.hpp"
#include "options.hpp"
#include "simulator.hpp"
#include "tools/sim-common/net/tls_server.hpp"

namespace {

void on_signal(struct ev_loop* loop, ev_signal* w, int) {
    std::cerr << "fcm-sim: signal " << w->signum << ", stopping\n";
    ev_break(loop, EVBREAK_ALL);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace fcm_sim;
    ::signal(SIGPIPE, SIG_IGN);
    Options opt;
    try {
        if (!parse_options(argc, argv, opt)) return 0;
    } catch (const std::exception& e) {
        std::cerr << "fcm-sim: " << e.what() << '\n';
        return 2;
    }
    try {
        struct ev_loop* loop = ev_default_loop(EVFLAG_AUTO);
        Simulator state(opt);
        // No client certificates at FCM: the CA list stays empty.
        auto fcm_fd = sim::listen_tcp(opt.listen_host, opt.listen_port);
        const int fcm_port = sim::local_port(fcm_fd.get());
        FcmServer fcm(loop, state, sim::make_server_tls_context(opt.cert_file, opt.key_file, ""), std::move(fcm_fd));
        std::unique_ptr<ControlServer> control;
        int control_port = 0;
        if (opt.control_port != 0) {
            auto control_fd = sim::listen_tcp(opt.control_host, opt.control_port);
            control_port = sim::local_port(control_fd.get());
            control = std::make_unique<ControlServer>(loop, state, fcm, std::move(control_fd));
        }
        ev_signal sigint, sigterm;
        ev_signal_init(&sigint, on_signal, SIGINT);
        ev_signal_init(&sigterm, on_signal, SIGTERM);
        ev_signal_start(loop, &sigint);
        ev_signal_start(loop, &sigterm);
        std::cerr << "fcm-sim: listening on " << opt.listen_host << ":" << fcm_port << " (" << state.accounts.all().size()
                  << " service accounts), control on " << opt.control_host << ":" << control_port << '\n';
        ev_run(loop, 0);
        ev_signal_stop(loop, &sigint);
        ev_signal_stop(loop, &sigterm);
        state.log.flush();
    } catch (const std::exception& e) {
        std::cerr << "fcm-sim: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
