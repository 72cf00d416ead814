// SPDX-License-Identifier: BSD-2-Clause
// apns-sim: see --help. One single-threaded libev loop serves APNs connections and the control API.
#include <ev.h>
#include <signal.h>

#include <iostream>

#include "apns_server.hpp"
#include "control_server.hpp"
#include "options.hpp"
#include "simulator.hpp"
#include "auth/tls_context.hpp"

namespace {

void on_signal(struct ev_loop* loop, ev_signal* w, int) {
    std::cerr << "apns-sim: signal " << w->signum << ", stopping\n";
    ev_break(loop, EVBREAK_ALL);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace apns_sim;
    ::signal(SIGPIPE, SIG_IGN);
    Options opt;
    try {
        if (!parse_options(argc, argv, opt)) return 0;
    } catch (const std::exception& e) {
        std::cerr << "apns-sim: " << e.what() << '\n';
        return 2;
    }
    try {
        struct ev_loop* loop = ev_default_loop(EVFLAG_AUTO);
        Simulator sim(opt);
        auto tls = make_server_tls_context(opt.cert_file, opt.key_file, opt.ca_file);
        auto apns_fd = listen_tcp(opt.listen_host, opt.listen_port);
        int apns_port = local_port(apns_fd.get());
        ApnsServer apns(loop, sim, std::move(tls), std::move(apns_fd));
        std::unique_ptr<ControlServer> control;
        int control_port = 0;
        if (opt.control_port != 0) {
            auto control_fd = listen_tcp(opt.control_host, opt.control_port);
            control_port = local_port(control_fd.get());
            control = std::make_unique<ControlServer>(loop, sim, apns, std::move(control_fd));
        }
        ev_signal sigint, sigterm;
        ev_signal_init(&sigint, on_signal, SIGINT);
        ev_signal_init(&sigterm, on_signal, SIGTERM);
        ev_signal_start(loop, &sigint);
        ev_signal_start(loop, &sigterm);
        std::cerr << "apns-sim: listening on " << opt.listen_host << ":" << apns_port << " (" << to_string(opt.environment)
                  << ", " << sim.keys.size() << " token keys), control on " << opt.control_host << ":" << control_port
                  << '\n';
        ev_run(loop, 0);
        ev_signal_stop(loop, &sigint);
        ev_signal_stop(loop, &sigterm);
        sim.log.flush();
    } catch (const std::exception& e) {
        std::cerr << "apns-sim: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
