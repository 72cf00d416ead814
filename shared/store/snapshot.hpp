// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A read-only view of the store at one moment: one LMDB read transaction for its whole life, and
// only bounded reads (a page of at most `limit` entries, found by cursor seeks). The admin page
// reads through it on nginx's event loop, where a scan of the whole store would stall every
// request of the worker.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/device.hpp"
#include "shared/store/store.hpp"

namespace pushsync {

template <typename T>
struct StorePage {
    std::vector<T> items;
    std::optional<std::string> next_after;  // the key to continue after; nullopt: this was the last page
};

// Figures that LMDB keeps per database and environment: no scan.
struct StoreTotals {
    std::size_t devices = 0;
    std::size_t groups = 0;
    std::size_t outbox = 0;
    std::uint64_t map_used = 0;  // bytes (last page number + 1) * page size
    std::uint64_t map_size = 0;
};

class StoreSnapshot {
public:
    explicit StoreSnapshot(const Store& store);  // throws StoreError
    ~StoreSnapshot();
    StoreSnapshot(const StoreSnapshot&) = delete;
    StoreSnapshot& operator=(const StoreSnapshot&) = delete;

    StoreTotals totals() const;
    // Groups whose id starts with `prefix` ("" = all), in id order, after the id `after`.
    StorePage<GroupCount> groups(std::string_view prefix, std::string_view after, std::size_t limit) const;
    // The group's device count; 0 when it does not exist.
    std::size_t group_size(std::string_view group) const;
    // The group's devices in token order, after the token `after`.
    StorePage<Device> group_devices(std::string_view group, std::string_view after, std::size_t limit) const;
    // Devices whose token starts with `prefix` (lowercase hex), in token order, after `after`.
    StorePage<Device> devices_by_token(std::string_view prefix, std::string_view after, std::size_t limit) const;

    // Delivery statistics (shared/store/stats.hpp); empty in a store no writer of this version opened.
    DeviceStats device_stats(std::string_view token) const;
    // Devices per app and environment (a handful of kept counts, not a scan of the devices).
    std::vector<AppDeviceCount> device_counts() const;
    // Recent events, newest first, with seq below `before_seq` (0: from the newest); next_after
    // holds the seq (decimal) to continue below.
    StorePage<StoreEvent> events(std::uint64_t before_seq, std::size_t limit) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pushsync
