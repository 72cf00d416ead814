// SPDX-License-Identifier: BSD-2-Clause
// Status and metrics render the same QueueStats snapshot (the figures live in the queue file's
// header, shared by every worker, the sender and the CLI).
#include "ngx_module/api/report.hpp"

#include <array>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "pushsync_version.hpp"

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

std::string status_json(const QueueStats& stats, std::int64_t now_ms, const metrics::HoldFigures* holds) {
    nlohmann::ordered_json counters = nlohmann::ordered_json::object();
    for (const auto& c : counter_names) counters[c.name] = value(stats, c.counter);
    if (holds != nullptr) {
        counters["pushes_held"] = holds->held;
        counters["pushes_merged"] = holds->merged;
        counters["pushes_released"] = holds->released;
        counters["held_pushes_dropped"] = holds->dropped;
    }
    nlohmann::ordered_json doc = {
        {"version", version},
        {"queue",
         {{"capacity", stats.capacity},
          {"depth", stats.depth},
          {"oldest_age_ms", stats.oldest_enqueued_ms == 0 ? 0 : now_ms - stats.oldest_enqueued_ms}}},
        {"counters", counters},
        {"sender",
         {{"alive", sender_alive(stats, now_ms)},
          {"heartbeat_age_ms", stats.consumer_heartbeat_ms == 0 ? -1 : now_ms - stats.consumer_heartbeat_ms}}},
    };
    if (holds != nullptr) doc["sender"]["waiting_pushes"] = holds->waiting;
    return doc.dump();
}

std::string status_json(const QueueStats& stats, std::int64_t now_ms, const std::string& queue_path,
                        std::string& problems) {
    std::string error;
    const auto holds = metrics::read_hold_figures(metrics::path_beside_queue(queue_path), error);
    if (!holds) problems = "hold figures left out: " + error;
    return status_json(stats, now_ms, holds ? &*holds : nullptr);
}

namespace {

// A label value per the Prometheus text format: backslash, double quote and line feed escaped.
void append_label_value(std::string& out, std::string_view value) {
    for (const char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            out.push_back('?');  // every label here is ASCII; other bytes could break a scrape's UTF-8
        } else {
            out.push_back(c);
        }
    }
}

using Labels = std::initializer_list<std::pair<const char*, std::string_view>>;

void append_labels(std::string& out, Labels labels, const char* le = nullptr) {
    if (labels.size() == 0 && le == nullptr) return;
    out.push_back('{');
    bool first = true;
    for (const auto& [name, value] : labels) {
        if (!first) out.push_back(',');
        first = false;
        out += name;
        out += "=\"";
        append_label_value(out, value);
        out.push_back('"');
    }
    if (le != nullptr) {
        if (!first) out.push_back(',');
        out += "le=\"";
        out += le;
        out.push_back('"');
    }
    out.push_back('}');
}

void append_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP pushsync_").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE pushsync_").append(name).append(" ").append(type).append("\n");
}

void append_sample(std::string& out, std::string_view name, Labels labels, std::string_view value) {
    out.append("pushsync_").append(name);
    append_labels(out, labels);
    out.append(" ").append(value).append("\n");
}

std::string seconds(std::uint64_t micros) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6f", static_cast<double>(micros) / 1e6);
    return buffer;
}

std::string bound(std::uint64_t micros) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", static_cast<double>(micros) / 1e6);
    return buffer;
}

// Buckets cumulative, as the format wants; _count is the +Inf bucket, so the two always agree.
template <std::size_t N>
void append_histogram(std::string& out, std::string_view name, Labels labels, const metrics::Histogram& histogram,
                      const std::array<std::uint64_t, N>& bounds) {
    if (histogram.buckets.size() != N + 1) return;
    std::uint64_t cumulative = 0;
    const std::string bucket_name = "pushsync_" + std::string(name) + "_bucket";
    for (std::size_t i = 0; i <= N; ++i) {
        cumulative += histogram.buckets[i];
        out += bucket_name;
        const std::string le = i < N ? bound(bounds[i]) : "+Inf";
        append_labels(out, labels, le.c_str());
        out.append(" ").append(std::to_string(cumulative)).append("\n");
    }
    append_sample(out, std::string(name) + "_sum", labels, seconds(histogram.sum_us));
    append_sample(out, std::string(name) + "_count", labels, std::to_string(cumulative));
}

void append_store(std::string& out, const StoreStats& store) {
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.6f",
                  store.map_size == 0 ? 0.0 : static_cast<double>(store.map_used) / static_cast<double>(store.map_size));
    append_header(out, "store_map_used_ratio", "gauge", "Share of the LMDB map in use.");
    append_sample(out, "store_map_used_ratio", {}, ratio);
    append_header(out, "outbox_entries", "gauge", "Notifies in the sender's outbox, not yet fully pushed.");
    append_sample(out, "outbox_entries", {}, std::to_string(store.outbox));
    append_header(out, "devices", "gauge", "Registered devices per app, environment and platform (apns without the label).");
    for (const auto& app : store.per_app) {
        // An apns sample keeps the labels of metrics contract 1.1, so queries written for it still match.
        if (app.platform == Platform::apns) {
            append_sample(out, "devices", {{"bundle_id", app.bundle_id}, {"environment", to_string(app.environment)}},
                          std::to_string(app.devices));
        } else {
            append_sample(out, "devices",
                          {{"bundle_id", app.bundle_id},
                           {"environment", to_string(app.environment)},
                           {"platform", to_string(app.platform)}},
                          std::to_string(app.devices));
        }
    }
}

void append_holds(std::string& out, const metrics::HoldFigures& holds) {
    const auto series = [&out](const char* name, const char* type, const char* help, std::uint64_t v) {
        append_header(out, name, type, help);
        append_sample(out, name, {}, std::to_string(v));
    };
    series("pushes_held_total", "counter",
           "Pushes that waited for their device's budget (delivery.device_min_interval_s).", holds.held);
    series("pushes_merged_total", "counter",
           "Pushes due to a device with a push already waiting: they joined it (one push, the newest tail).",
           holds.merged);
    series("pushes_released_total", "counter", "Waiting pushes sent when their device's budget allowed.",
           holds.released);
    series("held_pushes_dropped_total", "counter",
           "Waiting pushes not sent: their device left its group or its app meanwhile.", holds.dropped);
    series("waiting_pushes", "gauge", "Pushes waiting for their device's budget now.", holds.waiting);
}

void append_delivery(std::string& out, const metrics::Snapshot& delivery) {
    append_header(out, "apns_responses_total", "counter",
                  "APNs answers by app, environment, status and reason (status timeout etc.: no answer).");
    for (const auto& response : delivery.responses) {
        if (response.platform != Platform::apns) continue;
        append_sample(out, "apns_responses_total",
                      {{"bundle_id", response.bundle_id},
                       {"environment", response.environment},
                       {"status", response.status},
                       {"reason", response.reason}},
                      std::to_string(response.count));
    }
    append_header(out, "apns_request_seconds", "histogram", "Time from a push request to APNs' answer.");
    for (const auto& app : delivery.apps) {
        if (app.platform != Platform::apns) continue;
        append_histogram(out, "apns_request_seconds",
                         {{"bundle_id", app.bundle_id}, {"environment", to_string(app.environment)}}, app.request,
                         metrics::request_bounds_us);
    }
    // FCM's own families: its statuses and reasons (UNREGISTERED, QUOTA_EXCEEDED) are not APNs'.
    // FCM has no environments, so none is labelled.
    append_header(out, "fcm_responses_total", "counter",
                  "FCM answers by app, status and reason (its errorCode; status timeout etc.: no answer).");
    for (const auto& response : delivery.responses) {
        if (response.platform != Platform::fcm) continue;
        append_sample(out, "fcm_responses_total",
                      {{"bundle_id", response.bundle_id}, {"status", response.status}, {"reason", response.reason}},
                      std::to_string(response.count));
    }
    append_header(out, "fcm_token_fetches_total", "counter",
                  "FCM OAuth access-token requests finished (a token, a refusal, a failure or no answer).");
    append_sample(out, "fcm_token_fetches_total", {}, std::to_string(delivery.fcm_token_fetches));
    append_header(out, "fcm_token_fetch_failures_total", "counter", "FCM access-token requests that brought no token.");
    append_sample(out, "fcm_token_fetch_failures_total", {}, std::to_string(delivery.fcm_token_fetch_failures));
    append_header(out, "fcm_request_seconds", "histogram", "Time from a push request to FCM's answer.");
    for (const auto& app : delivery.apps) {
        if (app.platform != Platform::fcm) continue;
        append_histogram(out, "fcm_request_seconds", {{"bundle_id", app.bundle_id}}, app.request,
                         metrics::request_bounds_us);
    }
    append_header(out, "notify_to_push_seconds", "histogram",
                  "Time from a notify's 202 to APNs' 200, per push (the oldest notify a push carries).");
    append_histogram(out, "notify_to_push_seconds", {}, delivery.notify_to_push, metrics::notify_bounds_us);
    append_header(out, "credential_expiry_timestamp_seconds", "gauge",
                  "When an app's APNs credential expires (Unix seconds), where known.");
    for (const auto& app : delivery.apps) {
        if (app.credential_expiry_s == 0 || app.platform != Platform::apns) continue;
        append_sample(out, "credential_expiry_timestamp_seconds",
                      {{"bundle_id", app.bundle_id}, {"environment", to_string(app.environment)}},
                      std::to_string(app.credential_expiry_s));
    }
    append_holds(out, delivery.holds);
}

}  // namespace

std::string metrics_text(const QueueStats& stats, std::int64_t now_ms, const StoreStats* store,
                         const metrics::Snapshot* delivery) {
    std::string out;
    const auto gauge = [&out](const char* name, const char* help, auto v) {
        append_header(out, name, "gauge", help);
        append_sample(out, name, {}, std::to_string(v));
    };
    gauge("queue_capacity", "Slots in the notify queue.", stats.capacity);
    gauge("queue_depth", "Notifies in the queue not yet taken by the sender.", stats.depth);
    gauge("sender_alive", "1 when a sender heartbeat was seen within 5 s.", sender_alive(stats, now_ms) ? 1 : 0);
    for (const auto& c : counter_names) {
        const std::string name = std::string(c.name) + "_total";
        append_header(out, name, "counter", "Count since the queue file was created.");
        append_sample(out, name, {}, std::to_string(value(stats, c.counter)));
    }
    if (store != nullptr) append_store(out, *store);
    if (delivery != nullptr) append_delivery(out, *delivery);
    return out;
}

std::string metrics_text(const QueueStats& stats, std::int64_t now_ms, const Store* store,
                         const std::string& queue_path, std::string& problems) {
    std::optional<StoreStats> store_stats;
    if (store != nullptr) {
        try {
            store_stats = store->stats();
        } catch (const std::exception& e) {
            problems += std::string("store figures left out: ") + e.what();
        }
    }
    std::string error;
    const auto delivery = metrics::read_metrics(metrics::path_beside_queue(queue_path), error);
    if (!delivery) {
        if (!problems.empty()) problems += "; ";
        problems += "delivery metrics left out: " + error;
    }
    return metrics_text(stats, now_ms, store_stats ? &*store_stats : nullptr, delivery ? &*delivery : nullptr);
}

}  // namespace pushsync::api
