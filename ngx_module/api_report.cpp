// Status and metrics render the same QueueStats snapshot (the figures live in the queue file's
// header, shared by every worker, the sender and the CLI).
#include "ngx_module/api_report.hpp"

#include <array>

#include <nlohmann/json.hpp>

namespace pushsync::api {
namespace {

struct CounterName {
    Counter counter;
    const char* name;
};

constexpr std::array<CounterName, static_cast<unsigned>(Counter::count_)> counter_names{{
    {Counter::registrations, "registrations"},
    {Counter::unregistrations, "unregistrations"},
    {Counter::notifies_accepted, "notifies_accepted"},
    {Counter::notifies_rejected, "notifies_rejected"},
    {Counter::pushes_sent, "pushes_sent"},
    {Counter::pushes_failed, "pushes_failed"},
    {Counter::tokens_pruned, "tokens_pruned"},
}};

std::uint64_t value(const QueueStats& stats, Counter c) noexcept {
    return stats.counters[static_cast<unsigned>(c)];
}

}  // namespace

bool sender_alive(const QueueStats& stats, std::int64_t now_ms) noexcept {
    return stats.consumer_heartbeat_ms != 0 && now_ms - stats.consumer_heartbeat_ms <= sender_alive_ms;
}

std::string status_json(const QueueStats& stats, std::int64_t now_ms) {
    nlohmann::ordered_json counters = nlohmann::ordered_json::object();
    for (const auto& c : counter_names) counters[c.name] = value(stats, c.counter);
    nlohmann::ordered_json doc = {
        {"queue",
         {{"capacity", stats.capacity},
          {"depth", stats.depth},
          {"oldest_age_ms", stats.oldest_enqueued_ms == 0 ? 0 : now_ms - stats.oldest_enqueued_ms}}},
        {"counters", counters},
        {"sender",
         {{"alive", sender_alive(stats, now_ms)},
          {"heartbeat_age_ms", stats.consumer_heartbeat_ms == 0 ? -1 : now_ms - stats.consumer_heartbeat_ms}}},
    };
    return doc.dump();
}

std::string metrics_text(const QueueStats& stats, std::int64_t now_ms) {
    std::string out;
    const auto gauge = [&out](const char* name, const char* help, auto v) {
        out += "# HELP pushsync_";
        out += name;
        out += ' ';
        out += help;
        out += "\n# TYPE pushsync_";
        out += name;
        out += " gauge\npushsync_";
        out += name;
        out += ' ';
        out += std::to_string(v);
        out += '\n';
    };
    gauge("queue_capacity", "Slots in the notify queue.", stats.capacity);
    gauge("queue_depth", "Notifies in the queue not yet taken by the sender.", stats.depth);
    gauge("sender_alive", "1 when a sender heartbeat was seen within 5 s.", sender_alive(stats, now_ms) ? 1 : 0);
    for (const auto& c : counter_names) {
        out += "# HELP pushsync_";
        out += c.name;
        out += "_total Count since the queue file was created.\n";
        out += "# TYPE pushsync_";
        out += c.name;
        out += "_total counter\npushsync_";
        out += c.name;
        out += "_total ";
        out += std::to_string(value(stats, c.counter));
        out += '\n';
    }
    return out;
}

}  // namespace pushsync::api
