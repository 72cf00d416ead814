// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Dispatch and classification: sends each push on its connection, sorts every answer (classify.hpp)
// into done / prune / retry with backoff / failed / hold, and reports each finished push to the
// Ledger through on_finished.
//
// A device has at most one push on the wire. A newer push for the same device waits behind it and
// supersedes anything not yet on the wire (a retry waiting out its backoff, a push held for bad
// credentials): the device gets the newest tail, never an older one after it.
//
// Each connection configuration takes at most `window` devices at a time (enough to keep every
// stream of its connections busy with the next pushes ready); the rest of a big fan-out waits in
// its backlog, in order, and pump() starts the next ones as devices finish, with one store read
// for their dedupe. So the per-device state stays small (it fits in cache) and a request's
// timeout counts from when it is handed to the connection, not from the fan-out.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sender/dispatch/backoff.hpp"
#include "sender/dispatch/classify.hpp"
#include "sender/clock.hpp"
#include "sender/fanout/dedupe.hpp"
#include "sender/dispatch/recorder.hpp"
#include "sender/fanout/fanout.hpp"
#include "sender/logger.hpp"
#include "sender/timers.hpp"
#include "sender/transport.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

struct Push {
    std::uint64_t round = 0;
    std::string group;
    std::string tail;
    Target target;
    std::int64_t enqueued_ms = 0;  // the oldest notify it carries (Unix ms), for notify-to-push times
};

// Why a push stopped being the dispatcher's business.
enum class Outcome { delivered, pruned, failed, superseded, duplicate };

struct DispatchSettings {
    std::uint32_t expiration_s = 3600;
    std::uint32_t max_attempts = 8;
    std::int64_t hold_probe_ms = 60000;  // credential hold: one probe push and one log line per period
    std::size_t window_per_connection = 2000;  // devices at once per APNs connection (apns.connections)
};

struct DispatchStats {
    std::uint64_t delivered = 0, pruned = 0, failed = 0, superseded = 0, duplicate = 0, retries = 0;
};

// The exact body of docs/api.md "What reaches APNs".
std::string silent_payload(std::string_view tail);

class Dispatcher {
public:
    struct Deps {
        Store& store;
        Dedupe& dedupe;
        TimerQueue& timers;
        Backoff& backoff;
        Logger& log;
        std::function<void(Counter, std::uint64_t)> count;       // Queue::add
        std::function<void(const Push&, Outcome)> on_finished;   // the Ledger
        DeliveryRecorder* recorder = nullptr;                    // statistics; may be null
    };

    Dispatcher(Deps deps, DispatchSettings settings, const std::vector<ConnectionConfig>& connections,
               const TransportFactory& factory, std::vector<std::string> connection_names = {});
    // A push's connection once a reload left its app or environment without one.
    static constexpr std::size_t no_connection = static_cast<std::size_t>(-1);
    // The new connection of a push's device after a reload; nullopt: no longer configured.
    using Reroute = std::function<std::optional<std::size_t>(const Target& target)>;
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    // Queues the push behind the connection's backlog and starts what the window allows.
    void submit(Push push);
    void submit(std::vector<Push> pushes);
    // Starts backlogged pushes while their connection has room (the loop calls it once per
    // iteration, after the answers that freed the room).
    void pump();
    // A reload. New connection j keeps the transport of current connection reuse[j] (unchanged
    // configuration and credentials) or gets a new one from `factory`; current connections no
    // new one keeps drain (transport.hpp) and are freed by collect_retired(). Every push not yet
    // answered moves to its device's new connection through `reroute` (a push on a draining
    // connection waits for its answer there; one APNs never saw goes again on the new one), so
    // none is lost or sent twice; held pushes of a replaced connection go again at once. A push
    // whose app is gone fails (push.unroutable). A factory that throws changes nothing.
    void reconfigure(DispatchSettings settings, const std::vector<ConnectionConfig>& connections,
                     const std::vector<std::optional<std::size_t>>& reuse, const TransportFactory& factory,
                     std::vector<std::string> connection_names, const Reroute& reroute);
    // Frees draining transports that are done (outside their callbacks: the loop calls it).
    void collect_retired();
    std::size_t retiring() const noexcept { return retiring_.size(); }
    // Stop sending: pushes not on the wire are handed back (left for the next start); the wire is
    // given `deadline_ms` to answer.
    void stop(std::uint32_t deadline_ms);
    bool stopping() const noexcept { return stopping_; }

    std::size_t on_wire() const noexcept { return tags_.size(); }
    std::size_t devices_busy() const noexcept { return slots_.size(); }
    std::size_t backlog() const noexcept;
    // Room for more on this connection: its credentials work and less than a window waits.
    bool has_room(std::size_t connection) const noexcept;
    std::size_t transport_in_flight() const noexcept;
    bool holding(std::size_t connection) const { return connections_.at(connection).holding; }
    const DispatchStats& stats() const noexcept { return stats_; }

private:
    enum class Phase { on_wire, waiting_retry, held };
    struct Active {
        Push push;
        Phase phase = Phase::on_wire;
        std::uint32_t attempts = 0;
        std::uint64_t tag = 0;
        TimerQueue::Id timer = 0;
        std::int64_t sent_us = 0;  // DeliveryRecorder::now_us() when handed to the connection
    };
    struct Slot {
        Active active;
        std::optional<Push> next;
        std::size_t connection = 0;  // whose window this device takes
    };
    struct Connection {
        std::unique_ptr<PushTransport> transport;
        // The index the transport's answers are for: moved by a reload, no_connection once retired.
        std::shared_ptr<std::size_t> answers_for;
        std::string name;
        Platform platform = Platform::apns;  // apns: the dispatcher builds the payload
        bool holding = false;
        std::vector<std::string> held;  // tokens; stale entries are skipped
        TimerQueue::Id probe_timer = 0;
        std::int64_t last_alert_ms = -1;
        std::deque<Push> backlog;  // not started yet, in submit order
        std::size_t busy = 0;      // slots taking this connection's window
        std::size_t window = 0;
    };

    // A push for a device that already has a slot: waits behind it or replaces what is not on
    // the wire.
    void join(Slot& slot, const std::string& token, Push push);
    void erase(std::unordered_map<std::string, Slot>::iterator it);
    void on_response(std::size_t connection, const PushResponse& response);
    void process(std::size_t connection, const PushResponse& response);
    // Passing the Slot& / Active& spares a hash lookup of the 64-char token per push (nodes of
    // slots_ never move, so the reference holds until the slot is erased).
    void start(const std::string& token, Slot& slot);
    // start() once the dedupe said yes: on the wire, or held while the credentials are refused.
    void launch(const std::string& token, Slot& slot);
    void attempt(const std::string& token);
    void attempt(const std::string& token, Active& active);
    void advance(const std::string& token);
    // The same with the slot's iterator (slots_ only grows in submit(), never under process()).
    void advance(std::unordered_map<std::string, Slot>::iterator it);
    void finish(const Push& push, Outcome outcome);
    // A push left without a connection by a reload: failed (counted, logged), and for the
    // device's active push, its next one goes on.
    void fail_unroutable(const Push& push);
    void drop_unroutable(const std::string& token);
    std::unique_ptr<PushTransport> make_transport(const TransportFactory& factory, const ConnectionConfig& config,
                                                  Connection& connection, std::size_t index);
    void supersede(Slot& slot);
    void hold(const std::string& token);
    void release(std::size_t connection);
    void probe(std::size_t connection);
    void alert_credentials(std::size_t connection, const PushResponse& response);
    std::string fields(const Push& push, std::string_view apns_id = {}) const;
    // Statistics of one answer, and an event when it ends in a failure or a prune.
    void record(const Active& active, const PushResponse& response, PushOutcome::Count count,
                std::optional<EventKind> event = std::nullopt, std::string_view note = {});

    Deps deps_;
    DispatchSettings settings_;
    std::vector<Connection> connections_;
    struct Retiring {
        std::unique_ptr<PushTransport> transport;
        std::string name;
    };
    std::vector<Retiring> retiring_;  // replaced by a reload, draining
    std::unordered_map<std::string, Slot> slots_;
    std::unordered_map<std::uint64_t, std::string> tags_;  // on the wire: tag -> token
    std::uint64_t next_tag_ = 1;
    bool stopping_ = false;
    // Answers are processed one at a time even if a transport answers from inside send().
    std::deque<std::pair<std::size_t, PushResponse>> answers_;
    bool draining_ = false;
    bool pumping_ = false;
    DispatchStats stats_;
};

}  // namespace pushsync::sender
