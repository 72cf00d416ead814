// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The simulator pieces apns-sim shares with fcm-sim (tools/sim-common), under apns-sim's names.
#include "tools/sim-common/net/openssl_ptr.hpp"
#include "tools/sim-common/net/unique_fd.hpp"
#include "tools/sim-common/sim_clock.hpp"

namespace apns_sim {

using sim::BioPtr;
using sim::EcdsaSigPtr;
using sim::EvpMdCtxPtr;
using sim::EvpPkeyPtr;
using sim::SimClock;
using sim::SslCtxPtr;
using sim::SslPtr;
using sim::UniqueFd;
using sim::X509Ptr;
using sim::listen_tcp;
using sim::local_port;

}  // namespace apns_sim
