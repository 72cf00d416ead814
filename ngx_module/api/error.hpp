// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The error answers of docs/api.md, {"error": "<code>", "message": "<sentence>"}, and the one
// catalogue they all come from: each code has one status and one default message, so no two
// places can answer the same failure differently. nginx-free so the unit tests and the fuzzer
// use exactly what the module answers.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pushsync::api {

struct ApiError {
    int status = 500;
    std::string code;     // stable: clients branch on it
    std::string message;  // for people; never echoes raw client bytes
    std::string allow;    // 405 only: the Allow header
};

// Every code the contract names. Plain values (no allocation), so a failure can be recorded even
// when memory is short and turned into an ApiError later.
enum class ErrorCode : std::uint8_t {
    not_found,
    method_not_allowed,
    invalid_json,
    invalid_field,
    invalid_group,
    invalid_token,
    invalid_environment,
    invalid_tail,
    origin_not_member,
    origin_required,
    unknown_device,
    unknown_group,
    group_full,
    body_too_large,
    unsupported_media_type,
    unknown_bundle,
    internal_error,
    queue_full,
    // The device store, or the notify queue file, cannot be opened. The contract names no code of
    // its own for the queue file; clients treat both alike (a 503 with Retry-After: try again).
    store_unavailable,
    store_full,
};

struct ErrorEntry {
    ErrorCode id;
    int status;
    std::string_view code;
    std::string_view message;
};

inline constexpr std::array error_catalogue{
    ErrorEntry{ErrorCode::not_found, 404, "not_found", "no such endpoint"},
    ErrorEntry{ErrorCode::method_not_allowed, 405, "method_not_allowed", "this endpoint does not allow that method"},
    ErrorEntry{ErrorCode::invalid_json, 400, "invalid_json", "the body must be a JSON object"},
    ErrorEntry{ErrorCode::invalid_field, 400, "invalid_field", "a field has the wrong type or value"},
    ErrorEntry{ErrorCode::invalid_group, 400, "invalid_group", "group must be 1-128 characters from A-Z a-z 0-9 . _ ~ -"},
    ErrorEntry{ErrorCode::invalid_token, 400, "invalid_token", "device token must be 16-200 hex digits, even length"},
    ErrorEntry{ErrorCode::invalid_environment, 400, "invalid_environment", "environment must be production or sandbox"},
    ErrorEntry{ErrorCode::invalid_tail, 400, "invalid_tail",
               "tail must be 1-128 characters from A-Z a-z 0-9 . _ ~ : + / = -"},
    ErrorEntry{ErrorCode::origin_not_member, 403, "origin_not_member", "the origin device is not registered in this group"},
    ErrorEntry{ErrorCode::origin_required, 403, "origin_required", "a notify here must name its origin device"},
    ErrorEntry{ErrorCode::unknown_device, 404, "unknown_device", "this token is not registered in this group"},
    ErrorEntry{ErrorCode::unknown_group, 404, "unknown_group", "no device is registered in this group"},
    ErrorEntry{ErrorCode::group_full, 409, "group_full", "the group holds as many devices as it may"},
    ErrorEntry{ErrorCode::body_too_large, 413, "body_too_large", "the body must be at most 4096 bytes"},
    ErrorEntry{ErrorCode::unsupported_media_type, 415, "unsupported_media_type", "the body must be application/json"},
    ErrorEntry{ErrorCode::unknown_bundle, 422, "unknown_bundle", "bundle_id is not served here"},
    ErrorEntry{ErrorCode::internal_error, 500, "internal_error", "the server failed to handle the request"},
    ErrorEntry{ErrorCode::queue_full, 503, "queue_full", "the notify queue is full; try again"},
    ErrorEntry{ErrorCode::store_unavailable, 503, "store_unavailable",
               "the device store or the notify queue cannot be opened; try again"},
    ErrorEntry{ErrorCode::store_full, 507, "store_full", "the device store is full"},
};

constexpr const ErrorEntry& entry(ErrorCode id) noexcept {
    return error_catalogue[static_cast<std::size_t>(id)];
}

// The catalogue is indexed by ErrorCode: its order must follow the enum's.
constexpr bool catalogue_in_enum_order() noexcept {
    for (std::size_t i = 0; i < error_catalogue.size(); ++i) {
        if (static_cast<std::size_t>(error_catalogue[i].id) != i) return false;
    }
    return error_catalogue.size() == static_cast<std::size_t>(ErrorCode::store_full) + 1;
}
static_assert(catalogue_in_enum_order());

// The answer with the catalogue's message.
ApiError make_error(ErrorCode id);
// The same code and status with a message that says more (which field, what it must be).
ApiError make_error(ErrorCode id, std::string message);
// 405 with the Allow header the contract requires.
ApiError method_not_allowed(std::string_view allow);

std::string error_body(const ApiError& error);

}  // namespace pushsync::api
