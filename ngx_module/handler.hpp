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

}  // namespace pushsync::ngx
