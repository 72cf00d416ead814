// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The admin page's HTML, rendered from plain data: no nginx, no store. Every value is written
// through admin::Html (escaped), links are built with page_url (encoded).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ngx_module/admin/request.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"
#include "shared/store/snapshot.hpp"

namespace pushsync::admin {

// What every page shows around its content.
struct PageFrame {
    std::string base;  // the location's URI, ending in '/': links and the stylesheet hang off it
    std::string version;
    std::int64_t now_ms = 0;
};

struct OverviewModel {
    std::optional<QueueStats> queue;   // nullopt: the queue file is unavailable
    std::optional<StoreTotals> store;  // nullopt: the store is unavailable
    std::vector<AppDeviceCount> apps;
};

struct GroupSearchModel {
    GroupSearchRequest request;
    StorePage<GroupCount> page;
};

struct GroupModel {
    GroupRequest request;
    std::size_t devices = 0;  // in the whole group
    StorePage<Device> page;
    std::vector<DeviceStats> stats;  // page.items' statistics, in the same order
};

struct DeviceSearchModel {
    DeviceSearchRequest request;
    StorePage<Device> page;  // empty when no prefix was asked for
    std::vector<DeviceStats> stats;
};

struct EventsModel {
    EventsRequest request;
    StorePage<StoreEvent> page;  // newest first
};

std::string render_overview(const PageFrame& frame, const OverviewModel& model);
std::string render_group_search(const PageFrame& frame, const GroupSearchModel& model);
std::string render_group(const PageFrame& frame, const GroupModel& model);
std::string render_device_search(const PageFrame& frame, const DeviceSearchModel& model);
std::string render_events(const PageFrame& frame, const EventsModel& model);
// 400, 404, 405, 500, 503: the status, a sentence, and the way back.
std::string render_problem(const PageFrame& frame, int status, std::string_view message);

}  // namespace pushsync::admin
