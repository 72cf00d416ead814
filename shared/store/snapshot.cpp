// SPDX-License-Identifier: BSD-2-Clause
#include "shared/store/snapshot.hpp"

#include "shared/store/codec.hpp"
#include "shared/store/impl.hpp"

namespace pushsync {
namespace {

namespace codec = store_codec;

bool starts_with(std::string_view text, std::string_view prefix) noexcept {
    return text.substr(0, prefix.size()) == prefix;
}

// Walks keys that start with `prefix`, from the first key after `after` (or the first with the
// prefix), visiting at most `limit` of them; one more key is looked at to know whether a next
// page exists. `visit(key, value)` returns the item.
template <typename T, typename Visit>
StorePage<T> page_of(lmdb::Cursor& cursor, std::string_view prefix, std::string_view after, std::size_t limit,
                     std::string_view key_prefix_of_after, Visit&& visit) {
    StorePage<T> page;
    // An `after` below the prefix's range (a hand-edited link) starts at the range's first key.
    const std::string after_key = std::string(key_prefix_of_after) + std::string(after);
    const bool resume = !after.empty() && after_key >= prefix;
    const std::string_view start = resume ? std::string_view(after_key) : prefix;
    bool more = start.empty() ? cursor.first() : cursor.seek(start);  // LMDB refuses an empty key
    if (more && resume && cursor.key() == after_key) more = cursor.next();
    std::string last;
    for (; more && starts_with(cursor.key(), prefix); more = cursor.next()) {
        if (page.items.size() == limit) {
            page.next_after = last;
            break;
        }
        last = std::string(cursor.key().substr(key_prefix_of_after.size()));
        page.items.push_back(visit(cursor.key(), cursor.value()));
    }
    return page;
}

}  // namespace

struct StoreSnapshot::Impl {
    explicit Impl(const Store::Impl& store) : store(store), txn(store.read()) {}
    const Store::Impl& store;
    lmdb::Txn txn;
};

StoreSnapshot::StoreSnapshot(const Store& store) : impl_(std::make_unique<Impl>(*store.impl_)) {}
StoreSnapshot::~StoreSnapshot() = default;

StoreTotals StoreSnapshot::totals() const {
    const Store::Impl& s = impl_->store;
    StoreTotals totals;
    totals.devices = impl_->txn.entries(s.devices);
    totals.groups = impl_->txn.entries(s.group_counts);
    totals.outbox = impl_->txn.entries(s.outbox);
    MDB_envinfo info{};
    MDB_stat env_stat{};
    lmdb::check(mdb_env_info(s.env.get(), &info), "environment info", s.options.path);
    lmdb::check(mdb_env_stat(s.env.get(), &env_stat), "environment stat", s.options.path);
    totals.map_used = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * env_stat.ms_psize;
    totals.map_size = info.me_mapsize;
    return totals;
}

StorePage<GroupCount> StoreSnapshot::groups(std::string_view prefix, std::string_view after, std::size_t limit) const {
    lmdb::Cursor cursor(impl_->txn, impl_->store.group_counts);
    return page_of<GroupCount>(cursor, prefix, after, limit, "", [](std::string_view key, std::string_view value) {
        return GroupCount{std::string(key), static_cast<std::size_t>(codec::decode_u64(value, "group count"))};
    });
}

std::size_t StoreSnapshot::group_size(std::string_view group) const {
    auto count = impl_->txn.find(impl_->store.group_counts, group);
    return count ? static_cast<std::size_t>(codec::decode_u64(*count, "group count")) : 0;
}

StorePage<Device> StoreSnapshot::group_devices(std::string_view group, std::string_view after, std::size_t limit) const {
    const std::string prefix = codec::group_prefix(group);
    lmdb::Cursor cursor(impl_->txn, impl_->store.groups);
    return page_of<Device>(cursor, prefix, after, limit, prefix, [&](std::string_view key, std::string_view) {
        const std::string_view token = codec::split_group_key(key).second;
        auto device = impl_->store.find_device(impl_->txn, token);
        if (!device) {
            throw StoreError(StoreErrc::corrupt, "store " + impl_->store.options.path +
                                                     ": group index names a token without a device record");
        }
        return *device;
    });
}

StorePage<Device> StoreSnapshot::devices_by_token(std::string_view prefix, std::string_view after, std::size_t limit) const {
    lmdb::Cursor cursor(impl_->txn, impl_->store.devices);
    return page_of<Device>(cursor, prefix, after, limit, "", [](std::string_view key, std::string_view value) {
        return codec::decode_device(key, value);
    });
}

DeviceStats StoreSnapshot::device_stats(std::string_view token) const {
    return impl_->store.read_device_stats(impl_->txn, token);
}

std::vector<AppDeviceCount> StoreSnapshot::device_counts() const {
    return impl_->store.read_device_counts(impl_->txn);
}

StorePage<StoreEvent> StoreSnapshot::events(std::uint64_t before_seq, std::size_t limit) const {
    StorePage<StoreEvent> page;
    page.items = impl_->store.read_events(impl_->txn, limit + 1, before_seq);
    if (page.items.size() > limit) {
        page.items.pop_back();
        page.next_after = std::to_string(page.items.back().seq);
    }
    return page;
}

}  // namespace pushsync
