// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A registration or unregistration waiting for the batcher's write transaction, and its answer.
#include <string>
#include <variant>

#include "ngx_module/api/error.hpp"
#include "ngx_module/ngx_headers.hpp"
#include "shared/store/store.hpp"

namespace pushsync::ngx {

struct Removal {
    std::string group;
    std::string token;  // lowercase
};

struct Removed {
    bool found = false;  // false: the token was not registered in that group (404 unknown_device)
};

struct PendingWrite {
    ngx_http_request_t* request = nullptr;
    std::variant<Registration, Removal> change;
    // Filled by the write task: what the store did, or the catalogue's code for the failure (a
    // plain value, so recording a failure cannot itself fail). monostate: never written (500).
    std::variant<std::monostate, RegisterResult, Removed, api::ErrorCode> outcome;
};

// Answers one finished write on the event loop: the device, 204, or the contract's error.
ngx_int_t send_write_result(ngx_http_request_t* r, const PendingWrite& write);

}  // namespace pushsync::ngx
