// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/writes/pending_write.hpp"

#include "ngx_module/log_text.hpp"
#include "ngx_module/module_conf.hpp"
#include "ngx_module/response.hpp"
#include "ngx_module/worker_state.hpp"

namespace pushsync::ngx {
namespace {

struct ChangeIds {
    const char* kind;
    std::string_view group;
    std::string_view token;
};

ChangeIds ids_of(const PendingWrite& write) noexcept {
    if (const auto* registration = std::get_if<Registration>(&write.change)) {
        return {"register", registration->group, registration->token};
    }
    const auto& removal = std::get<Removal>(write.change);
    return {"unregister", removal.group, removal.token};
}

void count(ngx_http_request_t* r, Counter counter) noexcept {
    WorkerState* worker = main_conf(r)->worker;
    if (Queue* queue = worker ? worker->queue() : nullptr) queue->add(counter);
}

}  // namespace

ngx_int_t send_write_result(ngx_http_request_t* r, const PendingWrite& write) {
    ngx_log_t* log = r->connection->log;
    if (const auto* code = std::get_if<api::ErrorCode>(&write.outcome)) {
        const ChangeIds ids = ids_of(write);
        // A refused client (409 group_full) is worth a warning; the server failing, an error.
        const ngx_uint_t level = api::entry(*code).status >= 500 ? NGX_LOG_ERR : NGX_LOG_WARN;
        ngx_log_error(level, log, 0, "pushsync: %s failed group=%V token=%V error=%s", ids.kind,
                      LogText(ids.group).get(), LogText(token_prefix(ids.token)).get(), api::entry(*code).code.data());
        return send_error(r, api::make_error(*code));
    }
    if (const auto* result = std::get_if<RegisterResult>(&write.outcome)) {
        count(r, Counter::registrations);
        const Device& device = result->device;
        if (result->moved_from.empty()) {
            ngx_log_error(NGX_LOG_INFO, log, 0, "pushsync: %s group=%V token=%V",
                          result->created ? "registered" : "refreshed", LogText(device.group).get(),
                          LogText(token_prefix(device.token)).get());
        } else {
            ngx_log_error(NGX_LOG_INFO, log, 0, "pushsync: %s group=%V token=%V moved_from=%V",
                          result->created ? "registered" : "refreshed", LogText(device.group).get(),
                          LogText(token_prefix(device.token)).get(), LogText(result->moved_from).get());
        }
        return send_json(r, result->created ? NGX_HTTP_CREATED : NGX_HTTP_OK, device_to_json(device));
    }
    if (const auto* removed = std::get_if<Removed>(&write.outcome)) {
        if (!removed->found) return send_error(r, api::make_error(api::ErrorCode::unknown_device));
        count(r, Counter::unregistrations);
        const ChangeIds ids = ids_of(write);
        ngx_log_error(NGX_LOG_INFO, log, 0, "pushsync: unregistered group=%V token=%V", LogText(ids.group).get(),
                      LogText(token_prefix(ids.token)).get());
        return send_no_content(r);
    }
    return send_error(r, api::make_error(api::ErrorCode::internal_error));  // never written
}

}  // namespace pushsync::ngx
