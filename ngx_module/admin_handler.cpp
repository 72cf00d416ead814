// SPDX-License-Identifier: BSD-2-Clause
// The admin page on nginx: the method check, the location's base URI, the security headers.
// Everything else is admin_view (nginx-free). It runs on the event loop, so it only reads: one
// LMDB read transaction of bounded cursor reads per page, and the queue header.
#include "ngx_module/admin_handler.hpp"

#include <string>

#include "ngx_module/admin/view.hpp"
#include "ngx_module/guard.hpp"
#include "ngx_module/module_conf.hpp"
#include "ngx_module/response.hpp"
#include "ngx_module/worker_state.hpp"

#ifndef PUSHSYNC_VERSION  // CMake defines it; nginx's own ./configure build (ngx_module/config) does not
#define PUSHSYNC_VERSION "(version unknown)"
#endif

namespace pushsync::ngx {
namespace {

// No script, image, font, frame or foreign style: the stylesheet at <location>style.css only.
constexpr std::string_view content_security_policy =
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

ngx_int_t send_answer(ngx_http_request_t* r, const admin::AdminAnswer& answer) {
    const auto status = static_cast<ngx_uint_t>(answer.status);
    if (answer.status == 405) {
        return send_body(r, status, answer.content_type, answer.body,
                         {{"Allow", "GET, HEAD"},
                          {"Content-Security-Policy", content_security_policy},
                          {"X-Frame-Options", "DENY"},
                          {"Cache-Control", "no-store"},
                          {"X-Content-Type-Options", "nosniff"},
                          {"Referrer-Policy", "no-referrer"}});
    }
    return send_body(r, status, answer.content_type, answer.body,
                     {{"Content-Security-Policy", content_security_policy},
                      {"X-Frame-Options", "DENY"},
                      {"Cache-Control", "no-store"},
                      {"X-Content-Type-Options", "nosniff"},
                      {"Referrer-Policy", "no-referrer"}});
}

admin::PageFrame frame_of(ngx_http_request_t* r) {
    admin::PageFrame frame;
    frame.base = std::string(view(core_loc_conf(r)->name));
    if (frame.base.empty() || frame.base.back() != '/') frame.base += '/';
    frame.version = PUSHSYNC_VERSION;
    frame.now_ms = now_unix_ms();
    return frame;
}

// The URI below the location's prefix.
std::string_view page_path(ngx_http_request_t* r) noexcept {
    std::string_view uri = view(r->uri);
    const std::string_view prefix = view(core_loc_conf(r)->name);
    if (uri.substr(0, prefix.size()) == prefix) uri.remove_prefix(prefix.size());
    return uri;
}

ngx_int_t handle_admin(ngx_http_request_t* r) {
    const admin::PageFrame frame = frame_of(r);
    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        if (const ngx_int_t rc = ngx_http_discard_request_body(r); rc != NGX_OK) return rc;
        return send_answer(r, {405, admin::html_type,
                               admin::render_problem(frame, 405, "The admin page is read-only: GET and HEAD only.")});
    }
    if (const ngx_int_t rc = ngx_http_discard_request_body(r); rc != NGX_OK) return rc;
    WorkerState* worker = main_conf(r)->worker;
    const Store* store = worker ? worker->store() : nullptr;
    const Queue* queue = worker ? worker->queue() : nullptr;
    return send_answer(r, admin::answer_admin(page_path(r), view(r->args), frame, store, queue));
}

}  // namespace

ngx_int_t admin_handler(ngx_http_request_t* r) noexcept {
    return guard([r] { return handle_admin(r); },
                 [r](const Failure& f) noexcept -> ngx_int_t {
                     log_failure(r->connection->log, NGX_LOG_ERR, "admin page failed", f);
                     return NGX_HTTP_INTERNAL_SERVER_ERROR;
                 });
}

}  // namespace pushsync::ngx
