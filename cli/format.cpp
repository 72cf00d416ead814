// SPDX-License-Identifier: BSD-2-Clause
// Small text and JSON forms shared by the commands (see format.hpp).
#include "cli/format.hpp"

#include <cstdio>
#include <ostream>

namespace pushsync::cli {

Json device_json(const Device& device) { return Json::parse(device_to_json(device)); }

Json delivery_json(const DeviceStats& stats) {
    Json last = nullptr;
    if (stats.last_push) {
        const LastPush& push = *stats.last_push;
        last = {{"time", format_rfc3339(push.time_ms)}, {"tail", push.tail},     {"status", push.status},
                {"reason", push.reason},                {"apns_id", push.apns_id}};
    }
    return {{"sent", stats.sent}, {"failed", stats.failed}, {"last_push", last}};
}

namespace {
std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c >= 0x20 && c < 0x7f) {
            out.push_back(c);
        } else {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
            out += hex;
        }
    }
    return out;
}
}  // namespace

std::string last_push_text(const LastPush& last) {
    std::string out = format_rfc3339(last.time_ms) + " tail=" + printable(last.tail) +
                      " status=" + std::to_string(last.status);
    if (!last.reason.empty()) out += " reason=" + printable(last.reason);
    if (!last.apns_id.empty()) out += " apns-id=" + printable(last.apns_id);
    return out;
}

std::string format_age(std::int64_t ms) {
    char buf[64];
    if (ms < 0) ms = 0;
    const std::int64_t s = ms / 1000;
    if (ms < 1000) std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
    else if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    else if (s < 86400) std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60));
    else std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400), static_cast<long long>(s / 3600 % 24));
    return buf;
}

std::string format_bytes(std::uint64_t bytes) {
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%llu (%.1f %s)", static_cast<unsigned long long>(bytes), value, units[unit]);
    return buf;
}

// Bytes that are not UTF-8 (a forged queue slot, a corrupt store) print as U+FFFD instead of
// making dump() throw.
void print_json(std::ostream& out, const Json& value) {
    out << value.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace pushsync::cli
