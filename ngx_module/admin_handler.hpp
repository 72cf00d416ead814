// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// pushsync_admin: the read-only admin page (ngx_module/admin/view.hpp) on nginx.
#include "ngx_module/ngx_headers.hpp"

namespace pushsync::ngx {

ngx_int_t admin_handler(ngx_http_request_t* r) noexcept;

}  // namespace pushsync::ngx
