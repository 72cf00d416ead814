// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/api/list.hpp"

#include <nlohmann/json.hpp>

namespace pushsync::api {
namespace {

ApiError bad_query(std::string message) {
    return make_error(ErrorCode::invalid_field, std::move(message));
}

// The device object with token_prefix in token's place. device_to_json starts with the token
// (hex, so never escaped): that head is replaced, the rest of the object is kept as it is.
std::string entry_without_token(const Device& device) {
    std::string object = device_to_json(device);
    const std::string head = "{\"token\":\"" + device.token + "\",";
    if (object.compare(0, head.size(), head) != 0) {
        nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(object);
        parsed.erase("token");
        nlohmann::ordered_json entry = {{"token_prefix", device.token.substr(0, 8)}};
        entry.update(parsed);
        return entry.dump();
    }
    return "{\"token_prefix\":\"" + device.token.substr(0, 8) + "\"," + object.substr(head.size());
}

}  // namespace

std::variant<ListQuery, ApiError> parse_list_query(std::string_view args) {
    ListQuery query;
    bool seen_limit = false;
    bool seen_cursor = false;
    while (!args.empty()) {
        const auto amp = args.find('&');
        const std::string_view pair = args.substr(0, amp);
        args = amp == std::string_view::npos ? std::string_view{} : args.substr(amp + 1);
        const auto eq = pair.find('=');
        const std::string_view name = pair.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        if (name == "limit") {
            if (seen_limit) return bad_query("limit is given twice");
            seen_limit = true;
            std::size_t n = 0;
            bool digits = !value.empty() && value.size() <= 4;
            for (char c : value) {
                if (c < '0' || c > '9') digits = false;
                else n = n * 10 + static_cast<std::size_t>(c - '0');
            }
            if (!digits || n < 1 || n > max_list_limit) return bad_query("limit must be a number from 1 to 1000");
            query.limit = n;
        } else if (name == "cursor") {
            if (seen_cursor) return bad_query("cursor is given twice");
            seen_cursor = true;
            if (value.empty()) return bad_query("cursor must be the next of a previous page");
            query.cursor = value;
        }
    }
    return query;
}

std::string group_page_body(std::string_view group, const std::vector<Device>& devices, bool full_tokens,
                            std::string_view next) {
    // Each entry is already compact JSON: spliced rather than re-parsed.
    std::string out = "{\"group\":" + nlohmann::json(std::string(group)).dump() + ",\"devices\":[";
    for (std::size_t i = 0; i < devices.size(); ++i) {
        if (i) out += ',';
        out += full_tokens ? device_to_json(devices[i]) : entry_without_token(devices[i]);
    }
    out += ']';
    if (!next.empty()) out += ",\"next\":" + nlohmann::json(std::string(next)).dump();
    out += '}';
    return out;
}

}  // namespace pushsync::api
