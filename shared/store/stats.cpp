// SPDX-License-Identifier: BSD-2-Clause
// Delivery statistics in the store (shared/store/stats.hpp): per-device records, devices per app and
// environment, and the ring of recent events. Their layouts live here, beside the only code that
// reads and writes them.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "shared/store/store.hpp"
#include "shared/store/codec.hpp"
#include "shared/store/impl.hpp"
#include "shared/validation.hpp"

namespace pushsync {
namespace {

namespace codec = store_codec;

constexpr std::uint8_t device_stats_format = 1;
constexpr std::uint8_t event_format = 1;

std::string encode_device_stats(const DeviceStats& stats) {
    std::string out;
    out.push_back(static_cast<char>(device_stats_format));
    codec::put_le(out, stats.sent, 8);
    codec::put_le(out, stats.failed, 8);
    out.push_back(stats.last_push ? 1 : 0);
    if (stats.last_push) {
        const LastPush& last = *stats.last_push;
        codec::put_le(out, static_cast<std::uint64_t>(last.time_ms), 8);
        codec::put_le(out, static_cast<std::uint16_t>(std::clamp(last.status, 0, 0xffff)), 2);
        codec::put_string(out, last.tail);
        codec::put_string(out, last.reason);
        codec::put_string(out, last.apns_id);
    }
    return out;
}

DeviceStats decode_device_stats(std::string_view token, std::string_view record) {
    const std::string what = "statistics of device " + std::string(token.substr(0, 8));
    codec::Reader reader(record, what);
    if (reader.le(1) != device_stats_format) codec::corrupt(what + ": unknown record format");
    DeviceStats stats;
    stats.sent = reader.le(8);
    stats.failed = reader.le(8);
    const auto has_last = reader.le(1);
    if (has_last > 1) codec::corrupt(what + ": bad flag");
    if (has_last == 1) {
        LastPush last;
        last.time_ms = static_cast<std::int64_t>(reader.le(8));
        last.status = static_cast<int>(reader.le(2));
        last.tail = reader.text();
        last.reason = reader.text();
        last.apns_id = reader.text();
        stats.last_push = std::move(last);
    }
    reader.finish();
    return stats;
}

std::string encode_event(const StoreEvent& event) {
    std::string out;
    out.push_back(static_cast<char>(event_format));
    out.push_back(static_cast<char>(event.kind));
    codec::put_le(out, static_cast<std::uint64_t>(event.time_ms), 8);
    codec::put_string(out, event.group);
    codec::put_string(out, event.token_prefix);
    codec::put_string(out, event.reason);
    return out;
}

StoreEvent decode_event(std::uint64_t seq, std::string_view record) {
    const std::string what = "event " + std::to_string(seq);
    codec::Reader reader(record, what);
    if (reader.le(1) != event_format) codec::corrupt(what + ": unknown record format");
    StoreEvent event;
    event.seq = seq;
    const auto kind = reader.le(1);
    if (kind < 1 || kind > 3) codec::corrupt(what + ": unknown kind");
    event.kind = static_cast<EventKind>(kind);
    event.time_ms = static_cast<std::int64_t>(reader.le(8));
    event.group = reader.text();
    event.token_prefix = reader.text();
    event.reason = reader.text();
    reader.finish();
    return event;
}

// `bundle \0 environment` for apns (the form schema 2 stores hold), `bundle \0 environment
// platform` for the others: sorted by app, then environment, then platform, like
// StoreStats::per_app. A bundle ID has no \0, so the byte three from the end tells them apart.
std::string app_key(std::string_view bundle_id, Environment environment, Platform platform) {
    std::string key(bundle_id);
    key.push_back('\0');
    key.push_back(static_cast<char>(environment));
    if (platform != Platform::apns) key.push_back(static_cast<char>(platform));
    return key;
}

AppDeviceCount decode_app_count(std::string_view key, std::string_view value) {
    const auto bad = [&] { codec::corrupt("device count key of " + std::to_string(key.size()) + " bytes"); };
    Platform platform = Platform::apns;
    if (key.size() >= 3 && key[key.size() - 3] == '\0') {
        if (static_cast<std::uint8_t>(key.back()) > static_cast<std::uint8_t>(Platform::fcm)) bad();
        platform = static_cast<Platform>(key.back());
        key.remove_suffix(1);
    } else if (key.size() < 2 || key[key.size() - 2] != '\0') {
        bad();
    }
    if (static_cast<std::uint8_t>(key.back()) > static_cast<std::uint8_t>(Environment::sandbox)) bad();
    return {std::string(key.substr(0, key.size() - 2)), static_cast<Environment>(key.back()),
            codec::decode_u64(value, "device count"), platform};
}

}  // namespace

std::string_view to_string(EventKind kind) noexcept {
    switch (kind) {
        case EventKind::failed: return "failed";
        case EventKind::pruned: return "pruned";
        case EventKind::credentials: return "credentials";
    }
    return "unknown";
}

void Store::Impl::count_app(lmdb::Txn& txn, const Device& device, std::int64_t delta) const {
    if (!statistics) return;
    const std::string key = app_key(device.bundle_id, device.environment, device.platform);
    const auto stored = txn.find(app_counts, key);
    const std::int64_t before = stored ? static_cast<std::int64_t>(codec::decode_u64(*stored, "device count")) : 0;
    const std::int64_t now = before + delta;
    if (now <= 0) {
        txn.erase(app_counts, key);
    } else {
        txn.put(app_counts, key, codec::encode_u64(static_cast<std::uint64_t>(now)));
    }
}

void Store::Impl::rebuild_app_counts(lmdb::Txn& txn) const {
    std::map<std::string, std::uint64_t> counts;
    {
        lmdb::Cursor cursor(txn, devices);
        for (bool more = cursor.first(); more; more = cursor.next()) {
            const Device device = codec::decode_device(cursor.key(), cursor.value());
            ++counts[app_key(device.bundle_id, device.environment, device.platform)];
        }
    }
    for (const auto& [key, devices_of_app] : counts) txn.put(app_counts, key, codec::encode_u64(devices_of_app));
}

void Store::record_delivery(std::span<const std::pair<std::string, std::string>> token_tail,
                            std::span<const PushOutcome> outcomes, std::span<const StoreEvent> events) {
    if (token_tail.empty() && outcomes.empty() && events.empty()) return;
    auto txn = impl_->write();
    impl_->write_delivery(txn, token_tail, outcomes, events);
    txn.commit();
}

void Store::Impl::write_delivery(lmdb::Txn& txn, std::span<const std::pair<std::string, std::string>> token_tail,
                                 std::span<const PushOutcome> outcomes, std::span<const StoreEvent> new_events) const {
    for (const auto& [token, tail] : token_tail) txn.put(sent, token, tail);
    if (statistics) {
        for (const PushOutcome& outcome : outcomes) {
            // Only registered devices keep statistics: a prune or unregistration removed them.
            if (!txn.find(devices, outcome.token)) continue;
            DeviceStats stats;
            if (auto stored = txn.find(device_stats, outcome.token)) {
                try {
                    stats = decode_device_stats(outcome.token, *stored);
                } catch (const StoreError&) {
                    // A damaged record starts over rather than stopping every later write.
                }
            }
            if (outcome.answer) stats.last_push = outcome.answer;
            if (outcome.count == PushOutcome::Count::sent) ++stats.sent;
            if (outcome.count == PushOutcome::Count::failed) ++stats.failed;
            txn.put(device_stats, outcome.token, encode_device_stats(stats));
        }
        if (!new_events.empty()) {
            std::uint64_t seq = 0;
            {
                lmdb::Cursor cursor(txn, events);
                if (cursor.last()) seq = codec::outbox_id(cursor.key());
            }
            for (const StoreEvent& event : new_events) {
                ++seq;
                txn.put(events, codec::outbox_key(seq), encode_event(event));
            }
            // The ring: what fell out of the newest recent_events_kept goes.
            std::vector<std::string> old;
            {
                lmdb::Cursor cursor(txn, events);
                const std::size_t excess = txn.entries(events) > recent_events_kept
                                               ? txn.entries(events) - recent_events_kept
                                               : 0;
                for (bool more = cursor.first(); more && old.size() < excess; more = cursor.next()) {
                    old.emplace_back(cursor.key());
                }
            }
            for (const auto& key : old) txn.erase(events, key);
        }
    }
}

DeviceStats Store::device_stats(std::string_view token) const {
    std::string one(token);
    return device_stats(std::span(&one, 1)).front();
}

std::vector<DeviceStats> Store::device_stats(std::span<const std::string> tokens) const {
    if (!impl_->statistics || tokens.empty()) return std::vector<DeviceStats>(tokens.size());
    auto txn = impl_->read();
    std::vector<DeviceStats> result;
    result.reserve(tokens.size());
    for (const auto& token : tokens) result.push_back(impl_->read_device_stats(txn, token));
    return result;
}

std::vector<StoreEvent> Store::recent_events(std::size_t limit, std::uint64_t before_seq) const {
    if (!impl_->statistics || limit == 0) return {};
    auto txn = impl_->read();
    return impl_->read_events(txn, limit, before_seq);
}

std::vector<AppDeviceCount> Store::device_counts() const {
    if (!impl_->statistics) return {};
    auto txn = impl_->read();
    return impl_->read_device_counts(txn);
}

DeviceStats Store::Impl::read_device_stats(const lmdb::Txn& txn, std::string_view token) const {
    if (!statistics) return {};
    auto stored = txn.find(device_stats, token);
    return stored ? decode_device_stats(token, *stored) : DeviceStats{};
}

std::vector<StoreEvent> Store::Impl::read_events(const lmdb::Txn& txn, std::size_t limit, std::uint64_t before_seq) const {
    std::vector<StoreEvent> result;
    if (!statistics || limit == 0) return result;
    lmdb::Cursor cursor(txn, events);
    bool more = false;
    if (before_seq == 0) {
        more = cursor.last();
    } else if (cursor.seek(codec::outbox_key(before_seq))) {
        more = cursor.prev();  // the first key >= before_seq was found: the one before it
    } else {
        more = cursor.last();  // every key is below before_seq
    }
    for (; more && result.size() < limit; more = cursor.prev()) {
        result.push_back(decode_event(codec::outbox_id(cursor.key()), cursor.value()));
    }
    return result;
}

std::vector<AppDeviceCount> Store::Impl::read_device_counts(const lmdb::Txn& txn) const {
    std::vector<AppDeviceCount> result;
    if (!statistics) return result;
    lmdb::Cursor cursor(txn, app_counts);
    for (bool more = cursor.first(); more; more = cursor.next()) {
        result.push_back(decode_app_count(cursor.key(), cursor.value()));
    }
    return result;
}

nlohmann::json Store::Impl::delivery_record(const lmdb::Txn& txn, std::string_view token) const {
    const DeviceStats stats = read_device_stats(txn, token);
    const auto tail = txn.find(sent, token);
    if (!tail && stats == DeviceStats{}) return nullptr;
    nlohmann::json record = {{"sent", stats.sent}, {"failed", stats.failed}, {"last_push", nullptr},
                             {"last_sent_tail", nullptr}};
    if (stats.last_push) {
        const LastPush& push = *stats.last_push;
        record["last_push"] = {{"time_ms", push.time_ms}, {"tail", push.tail}, {"status", push.status},
                               {"reason", push.reason}, {"apns_id", push.apns_id}};
    }
    if (tail) record["last_sent_tail"] = std::string(*tail);
    return record;
}

void Store::Impl::put_delivery_record(lmdb::Txn& txn, std::string_view token, const nlohmann::json& record,
                                      bool merge) const {
    if (record.is_null()) return;
    auto fail = [](const std::string& problem) { throw std::invalid_argument("delivery: " + problem); };
    if (!record.is_object()) fail("not an object");
    auto count = [&](const char* name) {
        const auto it = record.find(name);
        if (it == record.end() || !it->is_number_unsigned()) fail(std::string(name) + " must be a whole number");
        return it->get<std::uint64_t>();
    };
    // Text from a file goes back into records others print: short, printable ASCII only.
    auto text = [&](const nlohmann::json& object, const char* name) {
        const auto it = object.find(name);
        if (it == object.end() || !it->is_string()) fail(std::string("last_push.") + name + " must be a string");
        const std::string value = it->get<std::string>();
        if (value.size() > 256 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
            fail(std::string("last_push.") + name + " must be at most 256 printable ASCII characters");
        }
        return value;
    };
    DeviceStats stats;
    stats.sent = count("sent");
    stats.failed = count("failed");
    if (const auto it = record.find("last_push"); it != record.end() && !it->is_null()) {
        if (!it->is_object()) fail("last_push must be an object or null");
        LastPush push;
        const auto time = it->find("time_ms");
        const auto status = it->find("status");
        if (time == it->end() || !time->is_number_integer()) fail("last_push.time_ms must be a whole number");
        if (status == it->end() || !status->is_number_integer() || status->get<std::int64_t>() < 0 ||
            status->get<std::int64_t>() > 999) {
            fail("last_push.status must be 0-999");
        }
        push.time_ms = time->get<std::int64_t>();
        push.status = status->get<int>();
        push.tail = text(*it, "tail");
        push.reason = text(*it, "reason");
        push.apns_id = text(*it, "apns_id");
        stats.last_push = std::move(push);
    }
    std::optional<std::string> tail;
    if (const auto it = record.find("last_sent_tail"); it != record.end() && !it->is_null()) {
        if (!it->is_string() || !is_valid_tail(it->get<std::string>())) fail("last_sent_tail is not a valid tail");
        tail = it->get<std::string>();
    }
    if (merge) {
        // Both shards pushed to a moving group while the front mirrored: keep the most of each.
        const DeviceStats here = read_device_stats(txn, token);
        stats.sent = std::max(stats.sent, here.sent);
        stats.failed = std::max(stats.failed, here.failed);
        if (here.last_push && (!stats.last_push || here.last_push->time_ms >= stats.last_push->time_ms)) {
            stats.last_push = here.last_push;
        }
        if (txn.find(sent, token)) tail.reset();
    }
    if (statistics) txn.put(device_stats, token, encode_device_stats(stats));
    if (tail) txn.put(sent, token, *tail);
}

}  // namespace pushsync
