// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Sending answers: JSON bodies, the contract's errors, and empty 204s.
#include <string_view>

#include "ngx_module/api/error.hpp"
#include "ngx_module/guard.hpp"
#include "ngx_module/ngx_headers.hpp"

namespace pushsync::ngx {

struct ExtraHeader {
    std::string_view name;
    std::string_view value;
};

// Returns what the content handler (or ngx_http_finalize_request) should get.
ngx_int_t send_body(ngx_http_request_t* r, ngx_uint_t status, std::string_view content_type,
                    std::string_view body, std::initializer_list<ExtraHeader> headers = {});
ngx_int_t send_json(ngx_http_request_t* r, ngx_uint_t status, std::string_view body,
                    std::initializer_list<ExtraHeader> headers = {});
ngx_int_t send_error(ngx_http_request_t* r, const api::ApiError& error);
ngx_int_t send_no_content(ngx_http_request_t* r);
// The failure path of a request's guard: logs the failure and answers 500 internal_error (nginx's
// bare 500 when even that cannot be built, or nothing new once the header went out).
ngx_int_t answer_failure(ngx_http_request_t* r, const char* event, const Failure& failure) noexcept;

}  // namespace pushsync::ngx
