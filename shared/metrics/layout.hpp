// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The layout of the metrics file: the sender's delivery metrics (APNs answers, answer times,
// notify-to-push times, credential expiry, the per-device push budget's holds), shared with nginx's workers for /pushsync/metrics
// without locks: one writer (the sender's loop thread) adds to 64-bit cells with relaxed atomics
// and publishes a new cell by bumping a count with release order; readers load with acquire and
// trust nothing else (shared/metrics/file.cpp bounds-checks every count, index and length).
// A fixed size, so a reader maps exactly sizeof(MetricsFile) after checking the file's size.
#include <array>
#include <cstdint>
#include <type_traits>

namespace pushsync::metrics {

inline constexpr char file_magic[8] = {'P', 'S', 'M', 'E', 'T', 'R', 'I', 'C'};
// 2: HoldCells after the header; 3: FcmTokenCells at the end. A file of another version is
// replaced by the writer and refused by readers.
inline constexpr std::uint32_t file_version = 3;

// Upper bounds of the histogram buckets in microseconds (Prometheus `le`, in seconds); one more
// bucket counts everything above (+Inf).
inline constexpr std::array<std::uint64_t, 13> request_bounds_us{
    1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
inline constexpr std::array<std::uint64_t, 14> notify_bounds_us{
    5'000,     10'000,    25'000,    50'000,     100'000,    250'000,    500'000,
    1'000'000, 2'500'000, 5'000'000, 10'000'000, 30'000'000, 60'000'000, 300'000'000};

template <std::size_t Bounds>
struct HistogramCells {
    std::uint64_t buckets[Bounds + 1];  // not cumulative; the last one is +Inf
    std::uint64_t sum_us;
};

inline constexpr std::uint32_t max_bundle_id = 160;
inline constexpr std::uint32_t max_status = 16;
inline constexpr std::uint32_t max_reason = 48;
inline constexpr std::uint32_t app_capacity = 64;
inline constexpr std::uint32_t response_capacity = 512;
// ResponseCell::app of answers that have no app cell (the app table was full).
inline constexpr std::uint32_t no_app = 0xffffffffu;

// One (bundle_id, environment, platform) of the sender's routes.
struct AppCell {
    // Environment in the low nibble, Platform in the high one (apns is 0, so a cell without a
    // platform reads as apns).
    std::uint8_t environment;
    std::uint8_t bundle_id_length;
    char bundle_id[max_bundle_id];
    std::int64_t credential_expiry_s;  // Unix seconds; 0: not known
    HistogramCells<request_bounds_us.size()> request;
};

// One (app, status, reason) of pushsync_apns_responses_total.
struct ResponseCell {
    std::uint32_t app;  // index into apps, or no_app
    std::uint8_t status_length;
    std::uint8_t reason_length;
    char status[max_status];
    char reason[max_reason];
    std::uint64_t count;
};

// The per-device push budget (delivery.device_min_interval_s): counters since the file was made,
// and one gauge. Right after the header, so the status endpoint reads only this far.
struct HoldCells {
    std::uint64_t held;      // pushes that had to wait for their device's budget
    std::uint64_t merged;    // notifies that reached a push already waiting (no push of their own)
    std::uint64_t released;  // waiting pushes sent when due
    std::uint64_t dropped;   // waiting pushes whose device had left its group or app meanwhile
    std::uint64_t waiting;   // gauge: pushes waiting now (stored, not yet released)
};

// FCM's OAuth access-token requests (docs/fcm.md §1), every service account together.
struct FcmTokenCells {
    std::uint64_t fetches;   // requests finished: a token, a refusal, a failure or no answer
    std::uint64_t failures;  // of those, the ones that brought no token
};

struct MetricsFile {
    char magic[8];
    std::uint32_t version;
    std::uint32_t size;  // sizeof(MetricsFile)
    std::uint32_t app_cells;       // app_capacity
    std::uint32_t response_cells;  // response_capacity
    std::uint32_t apps;       // cells in use, published with release order
    std::uint32_t responses;  // the same
    HoldCells holds;
    HistogramCells<notify_bounds_us.size()> notify_to_push;
    AppCell app[app_capacity];
    ResponseCell response[response_capacity];
    FcmTokenCells fcm_tokens;
};

static_assert(std::is_trivially_copyable_v<MetricsFile> && std::is_standard_layout_v<MetricsFile>);
static_assert(alignof(MetricsFile) == 8 && sizeof(AppCell) % 8 == 0 && sizeof(ResponseCell) % 8 == 0);

}  // namespace pushsync::metrics
