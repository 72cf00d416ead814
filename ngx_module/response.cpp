// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/response.hpp"

#include <cstring>

namespace pushsync::ngx {
namespace {

// A copy of `text` in the request pool (nginx keeps pointers until the response is out).
bool pool_str(ngx_http_request_t* r, std::string_view text, ngx_str_t& out) noexcept {
    out.len = text.size();
    out.data = static_cast<u_char*>(ngx_pnalloc(r->pool, text.size() == 0 ? 1 : text.size()));
    if (out.data == nullptr) return false;
    std::memcpy(out.data, text.data(), text.size());
    return true;
}

bool add_header(ngx_http_request_t* r, const ExtraHeader& header) noexcept {
    auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) return false;
    h->hash = 1;
    return pool_str(r, header.name, h->key) && pool_str(r, header.value, h->value);
}

}  // namespace

ngx_int_t send_body(ngx_http_request_t* r, ngx_uint_t status, std::string_view content_type,
                    std::string_view body, std::initializer_list<ExtraHeader> headers) {
    r->headers_out.status = status;
    r->headers_out.content_length_n = static_cast<off_t>(body.size());
    if (!pool_str(r, content_type, r->headers_out.content_type)) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = nullptr;
    for (const auto& h : headers) {
        if (!add_header(r, h)) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (body.empty()) r->header_only = 1;

    const ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) return rc;

    ngx_buf_t* b = ngx_create_temp_buf(r->pool, body.size());
    if (b == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    b->last = ngx_cpymem(b->last, body.data(), body.size());
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    ngx_chain_t out{b, nullptr};
    return ngx_http_output_filter(r, &out);
}

ngx_int_t send_json(ngx_http_request_t* r, ngx_uint_t status, std::string_view body,
                    std::initializer_list<ExtraHeader> headers) {
    return send_body(r, status, "application/json", body, headers);
}

ngx_int_t send_error(ngx_http_request_t* r, const api::ApiError& error) {
    const std::string body = api::error_body(error);
    if (!error.allow.empty()) {
        return send_json(r, static_cast<ngx_uint_t>(error.status), body, {{"Allow", error.allow}});
    }
    // Every 503 here is a passing condition (queue full, store or queue file not open yet: both
    // are retried per request), and clients retry 503s: tell them when.
    if (error.status == 503) {
        return send_json(r, static_cast<ngx_uint_t>(error.status), body, {{"Retry-After", "1"}});
    }
    return send_json(r, static_cast<ngx_uint_t>(error.status), body);
}

ngx_int_t answer_failure(ngx_http_request_t* r, const char* event, const Failure& failure) noexcept {
    log_failure(r->connection->log, NGX_LOG_ERR, event, failure);
    if (r->header_sent) return NGX_ERROR;
    return guard([r] { return send_error(r, api::make_error(api::ErrorCode::internal_error)); },
                 [](const Failure&) noexcept { return static_cast<ngx_int_t>(NGX_HTTP_INTERNAL_SERVER_ERROR); });
}

ngx_int_t send_no_content(ngx_http_request_t* r) {
    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;
    return ngx_http_send_header(r);
}

}  // namespace pushsync::ngx
