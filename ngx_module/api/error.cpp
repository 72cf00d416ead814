// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/api/error.hpp"

#include <nlohmann/json.hpp>

namespace pushsync::api {

ApiError make_error(ErrorCode id) {
    const ErrorEntry& e = entry(id);
    return {e.status, std::string(e.code), std::string(e.message), {}};
}

ApiError make_error(ErrorCode id, std::string message) {
    const ErrorEntry& e = entry(id);
    return {e.status, std::string(e.code), std::move(message), {}};
}

ApiError method_not_allowed(std::string_view allow) {
    ApiError error = make_error(ErrorCode::method_not_allowed, "this endpoint allows " + std::string(allow));
    error.allow = allow;
    return error;
}

std::string error_body(const ApiError& error) {
    return nlohmann::ordered_json{{"error", error.code}, {"message", error.message}}.dump();
}

}  // namespace pushsync::api
