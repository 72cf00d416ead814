// SPDX-License-Identifier: BSD-2-Clause
// /pushsync/metrics' text for the store's figures and the sender's delivery metrics: the
// Prometheus text format's histograms (cumulative buckets, _sum, _count) and escaped label values.
#include <gtest/gtest.h>

#include "ngx_module/api/report.hpp"

namespace pushsync::api {
namespace {

metrics::Histogram histogram(std::size_t bounds, std::initializer_list<std::pair<std::size_t, std::uint64_t>> hits,
                             std::uint64_t sum_us) {
    metrics::Histogram h;
    h.buckets.assign(bounds + 1, 0);
    for (const auto& [bucket, n] : hits) h.buckets[bucket] = n;
    h.sum_us = sum_us;
    return h;
}

TEST(MetricsText, HistogramsAreCumulativeWithSumAndCount) {
    metrics::Snapshot delivery;
    delivery.notify_to_push = histogram(metrics::notify_bounds_us.size(), {{0, 2}, {3, 1}}, 1'250'000);
    delivery.apps.push_back({"com.example.app", Environment::sandbox, 0,
                             histogram(metrics::request_bounds_us.size(), {{1, 4}, {13, 1}}, 11'000'000)});
    const std::string text = metrics_text(QueueStats{}, 0, nullptr, &delivery);
    EXPECT_NE(text.find("# TYPE pushsync_notify_to_push_seconds histogram\n"
                        "pushsync_notify_to_push_seconds_bucket{le=\"0.005\"} 2\n"
                        "pushsync_notify_to_push_seconds_bucket{le=\"0.01\"} 2\n"
                        "pushsync_notify_to_push_seconds_bucket{le=\"0.025\"} 2\n"
                        "pushsync_notify_to_push_seconds_bucket{le=\"0.05\"} 3\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pushsync_notify_to_push_seconds_bucket{le=\"+Inf\"} 3\n"
                        "pushsync_notify_to_push_seconds_sum 1.250000\n"
                        "pushsync_notify_to_push_seconds_count 3\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pushsync_apns_request_seconds_bucket{bundle_id=\"com.example.app\",environment=\"sandbox\","
                        "le=\"0.0025\"} 4\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pushsync_apns_request_seconds_count{bundle_id=\"com.example.app\",environment=\"sandbox\"} 5\n"),
              std::string::npos)
        << text;
    // No expiry known: no sample.
    EXPECT_EQ(text.find("pushsync_credential_expiry_timestamp_seconds{"), std::string::npos);
}

// An Android app's figures go to FCM's own families (no environment label), never to APNs'; its
// device count carries a platform label.
TEST(MetricsText, FcmAnswersAndDevicesAreNamedForTheirPlatform) {
    metrics::Snapshot delivery;
    metrics::Snapshot::App android{"com.example.app", Environment::production, 0,
                                   histogram(metrics::request_bounds_us.size(), {{1, 2}}, 4'000)};
    android.platform = Platform::fcm;
    delivery.apps.push_back(android);
    metrics::Snapshot::Response unregistered{"com.example.app", "production", "404", "UNREGISTERED", 3};
    unregistered.platform = Platform::fcm;
    delivery.responses.push_back(unregistered);
    delivery.responses.push_back({"com.example.app", "production", "410", "Unregistered", 1});
    delivery.fcm_token_fetches = 5;
    delivery.fcm_token_fetch_failures = 2;
    StoreStats store;
    store.per_app.push_back({"com.example.app", Environment::production, 42});
    store.per_app.push_back({"com.example.app", Environment::production, 7, Platform::fcm});
    const std::string text = metrics_text(QueueStats{}, 0, &store, &delivery);
    EXPECT_NE(text.find("pushsync_fcm_responses_total{bundle_id=\"com.example.app\",status=\"404\",reason=\"UNREGISTERED\"} 3\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pushsync_apns_responses_total{bundle_id=\"com.example.app\",environment=\"production\","
                        "status=\"410\",reason=\"Unregistered\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("pushsync_apns_responses_total{bundle_id=\"com.example.app\",environment=\"production\",status=\"404\""),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pushsync_fcm_request_seconds_count{bundle_id=\"com.example.app\"} 2\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("pushsync_apns_request_seconds_count{"), std::string::npos) << text;
    EXPECT_NE(text.find("# TYPE pushsync_fcm_token_fetches_total counter\npushsync_fcm_token_fetches_total 5\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pushsync_fcm_token_fetch_failures_total 2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("pushsync_devices{bundle_id=\"com.example.app\",environment=\"production\"} 42\n"), std::string::npos);
    EXPECT_NE(text.find("pushsync_devices{bundle_id=\"com.example.app\",environment=\"production\",platform=\"fcm\"} 7\n"),
              std::string::npos)
        << text;
}

TEST(MetricsText, HoldCountersAndTheWaitingGaugeAreSeries) {
    metrics::Snapshot delivery;
    delivery.holds = {5, 3, 4, 1, 2};
    const std::string text = metrics_text(QueueStats{}, 0, nullptr, &delivery);
    for (const char* sample : {"# TYPE pushsync_pushes_held_total counter\npushsync_pushes_held_total 5\n",
                               "# TYPE pushsync_pushes_merged_total counter\npushsync_pushes_merged_total 3\n",
                               "# TYPE pushsync_pushes_released_total counter\npushsync_pushes_released_total 4\n",
                               "# TYPE pushsync_held_pushes_dropped_total counter\npushsync_held_pushes_dropped_total 1\n",
                               "# TYPE pushsync_waiting_pushes gauge\npushsync_waiting_pushes 2\n"}) {
        EXPECT_NE(text.find(sample), std::string::npos) << sample << text;
    }
}

TEST(MetricsText, LabelValuesAreEscapedAndStoreFiguresShown) {
    metrics::Snapshot delivery;
    delivery.notify_to_push = histogram(metrics::notify_bounds_us.size(), {}, 0);
    delivery.apps.push_back({"com.example.app", Environment::production, 1'800'000'000,
                             histogram(metrics::request_bounds_us.size(), {}, 0)});
    delivery.responses.push_back({"com.example.app", "production", "400", "Bad\"Re\\ason\n\x01", 7});
    StoreStats store;
    store.map_used = 1 << 20;
    store.map_size = 4 << 20;
    store.outbox = 3;
    store.per_app.push_back({"com.example.app", Environment::production, 42});
    const std::string text = metrics_text(QueueStats{}, 0, &store, &delivery);
    EXPECT_NE(text.find("pushsync_apns_responses_total{bundle_id=\"com.example.app\",environment=\"production\","
                        "status=\"400\",reason=\"Bad\\\"Re\\\\ason\\n?\"} 7\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pushsync_store_map_used_ratio 0.250000\n"), std::string::npos) << text;
    EXPECT_NE(text.find("pushsync_outbox_entries 3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("pushsync_devices{bundle_id=\"com.example.app\",environment=\"production\"} 42\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pushsync_credential_expiry_timestamp_seconds{bundle_id=\"com.example.app\","
                        "environment=\"production\"} 1800000000\n"),
              std::string::npos)
        << text;
}

}  // namespace
}  // namespace pushsync::api
