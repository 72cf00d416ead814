// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The content handlers of the pushsync locations. All noexcept: exceptions end here as 500s.
#include "ngx_module/ngx_headers.hpp"

namespace pushsync::ngx {

ngx_int_t api_handler(ngx_http_request_t* r) noexcept;
ngx_int_t status_handler(ngx_http_request_t* r) noexcept;
ngx_int_t metrics_handler(ngx_http_request_t* r) noexcept;
// $pushsync_group
ngx_int_t group_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t data) noexcept;
// $pushsync_log_uri: the request line with its device tokens cut (ngx_module/api/log_uri.hpp).
ngx_int_t log_uri_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t data) noexcept;
// NGX_HTTP_POST_READ_PHASE, in a server with a pushsync location: the request line itself is
// cut, because nginx appends it (`request: "…"`) to every error-log line it or the module writes
// about the request — limit_req's refusals, access denials, timeouts, the module's own lines.
ngx_int_t hide_tokens_in_request_line(ngx_http_request_t* r) noexcept;

}  // namespace pushsync::ngx
