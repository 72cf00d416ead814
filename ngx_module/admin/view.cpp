// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/admin/view.hpp"

#include <optional>
#include <variant>

#include "ngx_module/admin/request.hpp"
#include "ngx_module/admin/style.hpp"
#include "shared/store/snapshot.hpp"

namespace pushsync::admin {
namespace {

AdminAnswer html(std::string body, int status = 200) {
    return {status, html_type, std::move(body)};
}

std::vector<DeviceStats> stats_of(const StoreSnapshot& snapshot, const std::vector<Device>& devices) {
    std::vector<DeviceStats> stats;
    stats.reserve(devices.size());
    for (const auto& d : devices) stats.push_back(snapshot.device_stats(d.token));
    return stats;
}

struct Render {
    const PageFrame& frame;
    const Store* store;
    const Queue* queue;

    AdminAnswer operator()(const OverviewRequest&) const {
        OverviewModel model;
        if (queue != nullptr) model.queue = queue->stats();
        if (store != nullptr) {
            StoreSnapshot snapshot(*store);
            model.store = snapshot.totals();
            model.apps = snapshot.device_counts();
        }
        return html(render_overview(frame, model));
    }
    AdminAnswer operator()(const StylesheetRequest&) const {
        return {200, css_type, std::string(stylesheet())};
    }
    AdminAnswer operator()(const GroupSearchRequest& request) const {
        if (store == nullptr) return unavailable();
        StoreSnapshot snapshot(*store);
        return html(render_group_search(frame, {request, snapshot.groups(request.prefix, request.after, page_size)}));
    }
    AdminAnswer operator()(const GroupRequest& request) const {
        if (store == nullptr) return unavailable();
        StoreSnapshot snapshot(*store);
        GroupModel model{request, snapshot.group_size(request.group), {}, {}};
        model.page = snapshot.group_devices(request.group, request.after, page_size);
        model.stats = stats_of(snapshot, model.page.items);
        return html(render_group(frame, model));
    }
    AdminAnswer operator()(const DeviceSearchRequest& request) const {
        DeviceSearchModel model{request, {}, {}};
        if (!request.token_prefix.empty()) {
            if (store == nullptr) return unavailable();
            StoreSnapshot snapshot(*store);
            model.page = snapshot.devices_by_token(request.token_prefix, request.after, page_size);
            model.stats = stats_of(snapshot, model.page.items);
        }
        return html(render_device_search(frame, model));
    }
    AdminAnswer operator()(const EventsRequest& request) const {
        if (store == nullptr) return unavailable();
        return html(render_events(frame, {request, StoreSnapshot(*store).events(request.before, page_size)}));
    }
    AdminAnswer unavailable() const {
        return html(render_problem(frame, 503, "The store is unavailable; the error log says why."), 503);
    }
};

}  // namespace

AdminAnswer answer_admin(std::string_view path, std::string_view query, const PageFrame& frame, const Store* store,
                         const Queue* queue) {
    auto parsed = parse_admin_request(path, query);
    if (const auto* problem = std::get_if<AdminProblem>(&parsed)) {
        return html(render_problem(frame, problem->status, problem->message), problem->status);
    }
    return std::visit(Render{frame, store, queue}, std::get<AdminRequest>(parsed));
}

}  // namespace pushsync::admin
