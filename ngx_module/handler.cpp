// SPDX-License-Identifier: BSD-2-Clause
// The API of docs/api.md on nginx: routing and checks come from the nginx-free api_* code;
// here are the request lifecycle (body reading, the group-commit hand-off) and the answers.
#include "ngx_module/handler.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <variant>

#include "ngx_module/api/body.hpp"
#include "ngx_module/api/cursor.hpp"
#include "ngx_module/api/list.hpp"
#include "ngx_module/api/log_uri.hpp"
#include "ngx_module/api/report.hpp"
#include "ngx_module/api/responses.hpp"
#include "ngx_module/api/route.hpp"
#include "ngx_module/writes/batcher.hpp"
#include "ngx_module/guard.hpp"
#include "ngx_module/log_text.hpp"
#include "ngx_module/module_conf.hpp"
#include "ngx_module/response.hpp"
#include "ngx_module/worker_state.hpp"
#include "shared/device.hpp"
#include "shared/queue/origin.hpp"
#include "shared/validation.hpp"

namespace pushsync::ngx {
namespace {

using api::ApiError;
using api::ErrorCode;
using api::make_error;

// A request whose body is being read (lives in the request pool): its route, or the error
// already decided that waits for the body to be drained.
struct RequestContext {
    api::Route route;
    std::optional<ApiError> error;
};

void body_ready(ngx_http_request_t* r) noexcept;

// The path under the location prefix ("groups/g/devices").
std::string_view relative_path(ngx_http_request_t* r) noexcept {
    std::string_view uri = view(r->uri);
    const ngx_http_core_loc_conf_t* clcf = core_loc_conf(r);
    const std::string_view prefix = view(clcf->name);
    if (!clcf->named && uri.substr(0, prefix.size()) == prefix) uri.remove_prefix(prefix.size());
    return uri;
}

std::optional<std::string_view> content_type(ngx_http_request_t* r) noexcept {
    if (r->headers_in.content_type == nullptr) return std::nullopt;
    return view(r->headers_in.content_type->value);
}

bool has_body(ngx_http_request_t* r) noexcept {
    return r->headers_in.content_length_n > 0 || r->headers_in.chunked;
}

// Answers an error found before the body was read. HTTP/1.1 discards the body; an HTTP/2 body
// is read first (nginx caps it at client_max_body_size), because answering while the client
// still sends makes nginx reset the stream and clients such as curl then drop the answer.
ngx_int_t reject(ngx_http_request_t* r, const ApiError& error) {
    if (r->stream != nullptr && has_body(r)) {
        // Made empty, then given the error: g++ 12 at -O3 calls the empty route of a temporary
        // RequestContext{{}, error} "maybe uninitialized" when it is destroyed (a false warning).
        auto* ctx = pool_emplace<RequestContext>(r->pool);
        if (ctx == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
        ctx->error = error;
        ngx_http_set_ctx(r, ctx, ngx_http_pushsync_module);
        const ngx_int_t rc = ngx_http_read_client_request_body(r, body_ready);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) return rc;
        return NGX_DONE;
    }
    if (const ngx_int_t rc = ngx_http_discard_request_body(r); rc != NGX_OK) return rc;
    if (error.status == 413) r->keepalive = 0;  // do not read the rest of an oversized body
    return send_error(r, error);
}

// The body as one string: in memory buffers, or (small client_body_buffer_size) a temp file.
// A body in one memory buffer (the usual small JSON) is viewed where nginx read it, not copied;
// otherwise it is assembled in `storage`.
std::variant<std::string_view, ApiError> collect_body(ngx_http_request_t* r, std::string& storage) {
    if (r->request_body == nullptr || r->request_body->bufs == nullptr) return std::string_view{};
    std::size_t total = 0;
    for (ngx_chain_t* cl = r->request_body->bufs; cl; cl = cl->next) {
        const ngx_buf_t* b = cl->buf;
        total += ngx_buf_in_memory(b) ? static_cast<std::size_t>(b->last - b->pos)
                                      : static_cast<std::size_t>(b->file_last - b->file_pos);
    }
    if (auto error = api::check_body_size(total)) return *error;
    const ngx_buf_t* first = r->request_body->bufs->buf;
    if (r->request_body->bufs->next == nullptr && ngx_buf_in_memory(first)) {
        return std::string_view(reinterpret_cast<const char*>(first->pos), total);
    }
    storage.reserve(total);
    for (ngx_chain_t* cl = r->request_body->bufs; cl; cl = cl->next) {
        ngx_buf_t* b = cl->buf;
        if (ngx_buf_in_memory(b)) {
            storage.append(reinterpret_cast<const char*>(b->pos), static_cast<std::size_t>(b->last - b->pos));
        } else if (b->in_file && b->file) {
            std::string chunk(static_cast<std::size_t>(b->file_last - b->file_pos), '\0');
            const ssize_t n = ngx_read_file(b->file, reinterpret_cast<u_char*>(chunk.data()), chunk.size(), b->file_pos);
            if (n != static_cast<ssize_t>(chunk.size())) return make_error(ErrorCode::internal_error);
            storage += chunk;
        }
    }
    return std::string_view(storage);
}

// pushsync_push: off, 0 or empty disable pushes for this request.
bool push_enabled(ngx_http_request_t* r, const LocConf& lcf) {
    if (lcf.push == nullptr) return true;
    ngx_str_t value{};
    if (ngx_http_complex_value(r, lcf.push, &value) != NGX_OK) throw std::runtime_error("pushsync_push evaluation failed");
    const std::string_view v = view(value);
    return !(v.empty() || v == "off" || v == "0");
}

// One page of a group, in one read transaction of at most `limit` devices, in the store's keyed
// order (contract 1.2). The cursor's key comes from the store too, so a cursor made by one worker
// continues on any other, after a reload and after a restart.
ngx_int_t list_group(ngx_http_request_t* r, WorkerState& worker, const api::Route& route) {
    if (const ngx_int_t rc = ngx_http_discard_request_body(r); rc != NGX_OK) return rc;
    auto parsed = api::parse_list_query(view(r->args));
    if (auto* error = std::get_if<ApiError>(&parsed)) return send_error(r, *error);
    const auto& query = std::get<api::ListQuery>(parsed);
    Store* store = worker.store();
    if (store == nullptr) return send_error(r, make_error(ErrorCode::store_unavailable));
    api::CursorKey key{};
    const std::string& store_key = store->cursor_key();
    std::copy_n(store_key.begin(), std::min(store_key.size(), key.size()), key.begin());
    std::string after;
    if (!query.cursor.empty()) {
        auto token = api::open_cursor(key, route.group, query.cursor);
        if (!token) return send_error(r, make_error(ErrorCode::invalid_field, "cursor is not the next of a page of this group"));
        after = std::move(*token);
    }
    std::vector<Device> devices;
    devices.reserve(query.limit);
    const auto last = store->list_page(route.group, after, query.limit,
                                       [&devices](const Device& device) { devices.push_back(device); });
    // An empty page past the end of a group that still exists is a page; no group at all is 404.
    if (devices.empty() && store->group_info(route.group, {}).devices == 0) {
        return send_error(r, make_error(ErrorCode::unknown_group));
    }
    const std::string next = last ? api::seal_cursor(key, route.group, *last) : std::string();
    return send_json(r, NGX_HTTP_OK, api::group_page_body(route.group, devices, loc_conf(r)->list_tokens, next));
}

ngx_int_t notify(ngx_http_request_t* r, WorkerState& worker, const api::Route& route, std::string_view body) {
    auto parsed = api::parse_notify_body(body);
    if (auto* error = std::get_if<ApiError>(&parsed)) return send_error(r, *error);
    const auto& request = std::get<api::NotifyBody>(parsed);

    Store* store = worker.store();
    if (store == nullptr) return send_error(r, make_error(ErrorCode::store_unavailable));
    const GroupInfo info = store->group_info(route.group, request.origin);
    if (info.devices == 0) return send_error(r, make_error(ErrorCode::unknown_group));
    ngx_log_t* log = r->connection->log;
    const LocConf& lcf = *loc_conf(r);
    // With the directive on, a notify must come from a member: one without origin would reach the
    // whole group on nothing but its id. After the unknown_group answer, so the refusal tells a
    // stranger nothing a 404 would not.
    if (lcf.require_origin && request.origin.empty()) {
        ngx_log_error(NGX_LOG_WARN, log, 0, "pushsync: notify refused group=%V no origin", LogText(route.group).get());
        return send_error(r, make_error(ErrorCode::origin_required));
    }
    if (lcf.require_origin && !info.origin_member) {
        ngx_log_error(NGX_LOG_WARN, log, 0, "pushsync: notify refused group=%V origin=%V not a member",
                      LogText(route.group).get(), LogText(token_prefix(request.origin)).get());
        return send_error(r, make_error(ErrorCode::origin_not_member));
    }
    const std::size_t targets = info.devices - (info.origin_member ? 1 : 0);
    if (targets == 0) return send_json(r, NGX_HTTP_OK, api::notify_body("nothing_to_notify", 0));
    if (!push_enabled(r, lcf)) {
        ngx_log_error(NGX_LOG_INFO, log, 0, "pushsync: notify disabled group=%V devices=%uz", LogText(route.group).get(),
                      targets);
        return send_json(r, NGX_HTTP_OK, api::notify_body("disabled", targets));
    }

    Queue* queue = worker.queue_as_opened();
    if (queue == nullptr) return send_error(r, make_error(ErrorCode::store_unavailable));
    // Notify holds views: the queued form of the origin lives here, for both enqueue calls.
    const std::string origin = queued_origin(request.origin);
    const Notify entry{route.group, request.tail, origin, now_unix_ms()};
    EnqueueResult result = queue->enqueue_counted(entry);
    if (result == EnqueueResult::full && queue->retired()) {
        // `pushsyncctl queue reset` swapped the file: queue() opens the new one.
        queue = worker.queue();
        if (queue == nullptr) return send_error(r, make_error(ErrorCode::store_unavailable));
        result = queue->enqueue_counted(entry);
    }
    if (result == EnqueueResult::invalid) {
        // parse_notify_body and the route bound group, tail and origin to what a slot holds, so
        // this is a bug between the two: a 500, never a 202 for a cut-short entry.
        ngx_log_error(NGX_LOG_ERR, log, 0, "pushsync: notify refused by the queue group=%V invalid entry",
                      LogText(route.group).get());
        return send_error(r, make_error(ErrorCode::internal_error));
    }
    if (result != EnqueueResult::accepted) {
        ngx_log_error(NGX_LOG_WARN, log, 0, "pushsync: notify rejected group=%V queue full", LogText(route.group).get());
        return send_error(r, make_error(ErrorCode::queue_full));
    }
    if (request.origin.empty()) {
        ngx_log_error(NGX_LOG_INFO, log, 0, "pushsync: notify queued group=%V devices=%uz", LogText(route.group).get(),
                      targets);
    } else {
        ngx_log_error(NGX_LOG_INFO, log, 0, "pushsync: notify queued group=%V devices=%uz origin=%V",
                      LogText(route.group).get(), targets, LogText(token_prefix(request.origin)).get());
    }
    return send_json(r, NGX_HTTP_ACCEPTED, api::notify_body("queued", targets));
}

// Registration: checked on the event loop, written by the batcher. NGX_DONE when handed off.
ngx_int_t start_register(ngx_http_request_t* r, WorkerState& worker, const api::Route& route, std::string_view body) {
    auto parsed = api::parse_registration_body(body);
    if (auto* error = std::get_if<ApiError>(&parsed)) return send_error(r, *error);
    auto& fields = std::get<api::RegistrationBody>(parsed);
    // The platform's own token rule: the route let through a token of any platform.
    switch (platform_token_problem(fields.platform, route.token_as_given)) {
    case TokenProblem::none: break;
    case TokenProblem::not_apns:
        return send_error(r, make_error(ErrorCode::invalid_token, "an apns token is 16-200 hex digits, even length"));
    case TokenProblem::not_fcm:
        return send_error(r, make_error(ErrorCode::invalid_token, "an fcm token is 32-1024 of A-Z a-z 0-9 _ - :"));
    case TokenProblem::too_long_to_store:
        return send_error(r, make_error(ErrorCode::invalid_token, "this server stores fcm tokens of up to " +
                                                                      std::to_string(max_stored_token_length) +
                                                                      " characters"));
    }
    // Case-sensitive for fcm: FCM gets it exactly as the app did.
    std::string token = stored_token(fields.platform, route.token_as_given);
    const AppConfig* app = worker.config().find_app(fields.platform, fields.bundle_id);
    if (app == nullptr) return send_error(r, make_error(ErrorCode::unknown_bundle));
    if (!app->allows(fields.environment)) {
        return send_error(r, make_error(ErrorCode::invalid_environment, "this app does not allow that environment"));
    }
    if (worker.store() == nullptr) return send_error(r, make_error(ErrorCode::store_unavailable));
    PendingWrite write{r,
                       Registration{std::move(token), route.group, std::move(fields.bundle_id), fields.environment,
                                    std::move(fields.app_version), fields.platform},
                       {}};
    worker.batcher().submit(std::move(write), RequestRef::held);  // the body read counted it
    return NGX_DONE;
}

// After ngx_http_read_client_request_body: the body is complete. NGX_DONE when the batcher
// took the request.
ngx_int_t handle_body(ngx_http_request_t* r) {
    const auto* ctx = static_cast<RequestContext*>(ngx_http_get_module_ctx(r, ngx_http_pushsync_module));
    WorkerState* worker = main_conf(r)->worker;
    if (ctx != nullptr && ctx->error) return send_error(r, *ctx->error);
    std::string storage;
    auto body = collect_body(r, storage);
    if (auto* error = std::get_if<ApiError>(&body)) return send_error(r, *error);
    if (ctx == nullptr || worker == nullptr) return send_error(r, make_error(ErrorCode::internal_error));
    if (ctx->route.endpoint == api::Endpoint::notify) return notify(r, *worker, ctx->route, std::get<std::string_view>(body));
    return start_register(r, *worker, ctx->route, std::get<std::string_view>(body));
}

void body_ready(ngx_http_request_t* r) noexcept {
    const ngx_int_t rc =
        guard([r] { return handle_body(r); }, [r](const Failure& f) noexcept { return answer_failure(r, "request failed", f); });
    if (rc == NGX_DONE) return;  // the batcher finalizes it
    ngx_http_finalize_request(r, rc);
}

ngx_int_t handle_api(ngx_http_request_t* r) {
    // Routing first: a path that is not the API's is 404 whatever state the worker is in.
    auto routed = api::route(view(r->method_name), relative_path(r));
    if (auto* error = std::get_if<ApiError>(&routed)) return reject(r, *error);
    auto& route = std::get<api::Route>(routed);

    WorkerState* worker = main_conf(r)->worker;
    if (worker == nullptr) return reject(r, make_error(ErrorCode::store_unavailable));

    switch (route.endpoint) {
    case api::Endpoint::list_group:
        return list_group(r, *worker, route);
    case api::Endpoint::unregister_device: {
        if (const ngx_int_t rc = ngx_http_discard_request_body(r); rc != NGX_OK) return rc;
        if (worker->store() == nullptr) return send_error(r, make_error(ErrorCode::store_unavailable));
        PendingWrite write{r, Removal{route.group, route.token}, {}};
        // No body read holds this request: submit() counts it once the write is queued, so a
        // throwing submit leaves nothing to release.
        worker->batcher().submit(std::move(write), RequestRef::take);
        return NGX_DONE;
    }
    case api::Endpoint::register_device:
    case api::Endpoint::notify:
        break;
    }

    if (auto error = api::check_content_type(content_type(r))) return reject(r, *error);
    if (r->headers_in.content_length_n > 0) {
        if (auto error = api::check_body_size(static_cast<std::size_t>(r->headers_in.content_length_n))) {
            return reject(r, *error);
        }
    }
    auto* ctx = pool_emplace<RequestContext>(r->pool, RequestContext{std::move(route), std::nullopt});
    if (ctx == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    ngx_http_set_ctx(r, ctx, ngx_http_pushsync_module);
    const ngx_int_t rc = ngx_http_read_client_request_body(r, body_ready);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) return rc;
    return NGX_DONE;
}

ngx_int_t handle_report(ngx_http_request_t* r, bool metrics) {
    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return reject(r, api::method_not_allowed("GET"));
    }
    if (const ngx_int_t rc = ngx_http_discard_request_body(r); rc != NGX_OK) return rc;
    WorkerState* worker = main_conf(r)->worker;
    Queue* queue = worker ? worker->queue() : nullptr;
    if (queue == nullptr) return send_error(r, make_error(ErrorCode::store_unavailable));
    const QueueStats stats = queue->stats();
    if (metrics) {
        std::string left_out;
        std::string text = api::metrics_text(stats, now_unix_ms(), worker->store(), worker->config().queue.path, left_out);
        if (!left_out.empty()) ngx_log_error(NGX_LOG_DEBUG, r->connection->log, 0, "pushsync: metrics: %s", left_out.c_str());
        return send_body(r, NGX_HTTP_OK, "text/plain; version=0.0.4", std::move(text));
    }
    std::string left_out;
    std::string json = api::status_json(stats, now_unix_ms(), worker->config().queue.path, left_out);
    if (!left_out.empty()) ngx_log_error(NGX_LOG_DEBUG, r->connection->log, 0, "pushsync: status: %s", left_out.c_str());
    return send_json(r, NGX_HTTP_OK, json);
}

}  // namespace

ngx_int_t api_handler(ngx_http_request_t* r) noexcept {
    return guard([r] { return handle_api(r); }, [r](const Failure& f) noexcept { return answer_failure(r, "request failed", f); });
}

ngx_int_t status_handler(ngx_http_request_t* r) noexcept {
    return guard([r] { return handle_report(r, false); },
                 [r](const Failure& f) noexcept { return answer_failure(r, "status failed", f); });
}

ngx_int_t metrics_handler(ngx_http_request_t* r) noexcept {
    return guard([r] { return handle_report(r, true); },
                 [r](const Failure& f) noexcept { return answer_failure(r, "metrics failed", f); });
}

ngx_int_t group_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t) noexcept {
    // A subrequest (mirror, auth_request) names the group of the client's request: a front's
    // mirror to the next ring must hash the same key as the request it copies.
    r = r->main;
    const LocConf* lcf = loc_conf(r);
    const bool api_path = lcf && (lcf->kind == kind_api || lcf->kind == kind_front);
    const std::string_view group = api_path ? api::group_of_path(relative_path(r)) : std::string_view{};
    if (group.empty()) {
        v->not_found = 1;
        return NGX_OK;
    }
    v->data = reinterpret_cast<u_char*>(const_cast<char*>(group.data()));
    v->len = static_cast<unsigned>(group.size());
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return NGX_OK;
}

namespace {

// The request line as $request shows it: nginx's, or for a request refused while its line was
// still being read, what arrived of it up to the end of the line.
std::string_view request_line(ngx_http_request_t* r) noexcept {
    if (r->request_line.data != nullptr) return view(r->request_line);
    if (r->request_start == nullptr || r->header_in == nullptr) return {};
    const u_char* end = r->request_start;
    while (end < r->header_in->last && *end != CR && *end != LF) ++end;
    return {reinterpret_cast<const char*>(r->request_start), static_cast<std::size_t>(end - r->request_start)};
}

// `line`, or its cut copy in r's pool, into `out`; false when the pool is out of memory.
bool cut_line(ngx_http_request_t* r, std::string_view line, ngx_str_t& out) {
    const std::string cut = api::log_uri(line);
    if (cut == line) {
        out.data = reinterpret_cast<u_char*>(const_cast<char*>(line.data()));
        out.len = line.size();
        return true;
    }
    auto* copy = static_cast<u_char*>(ngx_pnalloc(r->pool, cut.size()));
    if (copy == nullptr) return false;
    std::copy(cut.begin(), cut.end(), copy);
    out.data = copy;
    out.len = cut.size();
    return true;
}

bool cut_line_guarded(ngx_http_request_t* r, std::string_view line, ngx_str_t& out) noexcept {
    return guard([&] { return cut_line(r, line, out); }, [](const Failure&) noexcept { return false; });
}

}  // namespace

ngx_int_t log_uri_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t) noexcept {
    // A subrequest's line is its parent's, as with $request.
    r = r->main;
    const std::string_view line = request_line(r);
    ngx_str_t cut{};
    // Without memory for the cut line, no line: never the line with its tokens.
    if (line.data() == nullptr || !cut_line_guarded(r, line, cut)) {
        v->not_found = 1;
        return NGX_OK;
    }
    v->data = cut.data;
    v->len = static_cast<unsigned>(cut.len);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return NGX_OK;
}

ngx_int_t hide_tokens_in_request_line(ngx_http_request_t* r) noexcept {
    const SrvConf* scf = srv_conf(r);
    if (scf == nullptr || !scf->serves_pushsync || r != r->main || r->request_line.len == 0) return NGX_DECLINED;
    ngx_str_t cut{};
    if (cut_line_guarded(r, view(r->request_line), cut)) r->request_line = cut;
    return NGX_DECLINED;
}

}  // namespace pushsync::ngx
