// SPDX-License-Identifier: BSD-2-Clause
// pushsyncctl queue commands: the mapped ring's figures, its waiting entries, and a deliberate reset.
#include <filesystem>
#include <memory>
#include <ostream>

#include "cli/args.hpp"
#include "cli/cli.hpp"
#include "cli/format.hpp"
#include "cli/table.hpp"
#include "shared/log_escape.hpp"
#include "shared/queue/queue.hpp"

namespace pushsync::cli {
namespace {

// The same bound as the status endpoint's sender.alive (docs/api.md): a consumer seen this
// recently is taken to be running.
constexpr std::int64_t consumer_fresh_ms = 5000;

constexpr const char* counter_names[] = {"registrations", "unregistrations", "notifies_accepted", "notifies_rejected",
                                         "pushes_sent",   "pushes_failed",   "tokens_pruned"};
static_assert(std::size(counter_names) == static_cast<std::size_t>(Counter::count_));

std::unique_ptr<Queue> open_queue(const Config& config) {
    const std::string& path = config.queue.path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        throw NotFound("queue " + path + ": no queue file (nginx and the sender create it on start)");
    }
    return Queue::open_existing(path);
}

bool consumer_alive(const QueueStats& stats, std::int64_t now) {
    return stats.consumer_heartbeat_ms != 0 && now - stats.consumer_heartbeat_ms < consumer_fresh_ms;
}

Json optional_age(std::int64_t since_ms, std::int64_t now) {
    return since_ms == 0 ? Json(nullptr) : Json(std::max<std::int64_t>(0, now - since_ms));
}

std::string age_text(std::int64_t since_ms, std::int64_t now) {
    if (since_ms == 0) return "-";
    return format_age(now - since_ms) + " ago (" + format_rfc3339(since_ms) + ")";
}

int run_queue(const Invocation& inv) {
    const auto queue = open_queue(inv.config);
    const QueueStats stats = queue->stats();
    const std::int64_t now = now_unix_ms();
    if (inv.json) {
        Json counters = Json::object();
        for (std::size_t i = 0; i < std::size(counter_names); ++i) counters[counter_names[i]] = stats.counters[i];
        print_json(inv.out, {{"queue",
                              {{"path", queue->path()},
                               {"capacity", stats.capacity},
                               {"depth", stats.depth},
                               {"oldest_age_ms", optional_age(stats.oldest_enqueued_ms, now)}}},
                             {"sender",
                              {{"alive", consumer_alive(stats, now)},
                               {"heartbeat_age_ms", optional_age(stats.consumer_heartbeat_ms, now)}}},
                             {"counters", counters},
                             {"rejected_slots", stats.rejected_slots}});
        return exit_done;
    }
    Table table;
    table.add({"path", queue->path()});
    table.add({"capacity", std::to_string(stats.capacity)});
    table.add({"depth", std::to_string(stats.depth)});
    table.add({"oldest", stats.depth == 0 ? "-" : age_text(stats.oldest_enqueued_ms, now)});
    table.add({"heartbeat", stats.consumer_heartbeat_ms == 0 ? "never" : age_text(stats.consumer_heartbeat_ms, now)});
    table.add({"sender_alive", consumer_alive(stats, now) ? "yes" : "no"});
    for (std::size_t i = 0; i < std::size(counter_names); ++i) {
        table.add({counter_names[i], std::to_string(stats.counters[i])});
    }
    table.add({"rejected_slots", std::to_string(stats.rejected_slots)});
    table.print(inv.out);
    return exit_done;
}

int run_queue_peek(const Invocation& inv) {
    const std::size_t max = inv.args.empty() ? 10 : parse_count(inv.args[0], "N");
    const auto queue = open_queue(inv.config);
    const std::vector<QueuedNotify> entries = queue->peek(max);
    const std::int64_t now = now_unix_ms();
    if (inv.json) {
        Json list = Json::array();
        for (const QueuedNotify& e : entries) {
            list.push_back({{"position", e.position},
                            {"group", e.group},
                            {"tail", e.tail},
                            {"origin", e.origin.empty() ? Json(nullptr) : Json(e.origin)},
                            {"enqueued_at", format_rfc3339(e.enqueued_ms)},
                            {"age_ms", std::max<std::int64_t>(0, now - e.enqueued_ms)}});
        }
        print_json(inv.out, {{"entries", list}});
        return exit_done;
    }
    Table table({"POSITION", "AGE", "GROUP", "TAIL", "ORIGIN"}, {true, true, false, false, false});
    for (const QueuedNotify& e : entries) {
        // Whatever a slot holds (the file may be forged), the terminal gets escaped text.
        table.add({std::to_string(e.position), format_age(now - e.enqueued_ms), log_value(e.group), log_value(e.tail),
                   e.origin.empty() ? "-" : log_value(e.origin)});
    }
    table.print(inv.out);
    return exit_done;
}

int run_queue_reset(const Invocation& inv) {
    const std::string& path = inv.config.queue.path;
    std::uint64_t dropped = 0;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        std::unique_ptr<Queue> queue;
        try {
            queue = Queue::open_existing(path);
        } catch (const QueueError&) {
            // A file that cannot be opened (wrong magic, version or size) is exactly what reset
            // is for; there is no heartbeat to respect in it.
        }
        if (queue) {
            const QueueStats stats = queue->stats();
            const std::int64_t now = now_unix_ms();
            if (consumer_alive(stats, now) && !inv.has("--force")) {
                throw Failed("queue " + path + ": a consumer (pushsync-sender) was seen " +
                             format_age(now - stats.consumer_heartbeat_ms) +
                             " ago; stop it first, or use --force to reset under it");
            }
            dropped = stats.depth;
        }
    }
    Queue::reset(path, inv.config.queue.capacity);
    if (inv.json) {
        print_json(inv.out, {{"path", path}, {"capacity", inv.config.queue.capacity}, {"dropped", dropped}});
    } else {
        inv.out << "reset queue " << path << " (capacity " << inv.config.queue.capacity << ", " << dropped
                << " entries dropped)\n";
    }
    return exit_done;
}

}  // namespace

std::vector<CommandSpec> queue_commands() {
    return {
        {{"queue"}, "", "the queue's capacity, depth, oldest entry's age, sender heartbeat and counters", "", {}, 0, 0,
         run_queue},
        {{"queue", "peek"}, "[N]", "show up to N (10) entries not yet committed by the sender, oldest first",
         "Nothing is moved or consumed.", {}, 0, 1, run_queue_peek},
        {{"queue", "reset"}, "", "re-initialise the queue file with queue.capacity, dropping its entries",
         "Refused (exit status 3) while the sender's heartbeat is younger than 5 s, unless --force.\n"
         "Entries already moved into the store's outbox are not affected.",
         {{"--force", "", "reset even while a sender is running"}}, 0, 0, run_queue_reset},
    };
}

}  // namespace pushsync::cli
