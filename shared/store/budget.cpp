// SPDX-License-Identifier: BSD-2-Clause
// The per-device push budget in the store: each device's last push and waiting push
// (`device_budget`), and the waiting pushes ordered by due time (`held_pushes`), so the sender
// releases them in order from a cursor and a sender killed while pushes wait finds them again.
#include <cstring>

#include "shared/store/codec.hpp"
#include "shared/store/impl.hpp"

namespace pushsync {
namespace {

namespace codec = store_codec;

constexpr char budget_layout = 1;
constexpr char held_layout = 1;

std::string encode_budget(const DeviceBudget& budget) {
    std::string out(1, budget_layout);
    out += codec::encode_u64(static_cast<std::uint64_t>(budget.last_push_ms));
    out += codec::encode_u64(static_cast<std::uint64_t>(budget.held_until_ms));
    out += codec::encode_u64(budget.held_tail_id);
    return out;
}

DeviceBudget decode_budget(std::string_view record) {
    if (record.size() != 25 || record[0] != budget_layout) {
        throw StoreError(StoreErrc::corrupt, "device budget record: unknown layout or size " +
                                                 std::to_string(record.size()));
    }
    DeviceBudget budget;
    budget.last_push_ms = static_cast<std::int64_t>(codec::decode_u64(record.substr(1, 8), "last push"));
    budget.held_until_ms = static_cast<std::int64_t>(codec::decode_u64(record.substr(9, 8), "held until"));
    budget.held_tail_id = codec::decode_u64(record.substr(17, 8), "held tail id");
    return budget;
}

// Big-endian due time first: LMDB's key order is the order of due times.
std::string held_key(std::int64_t due_ms, std::string_view token) {
    std::string key = codec::outbox_key(static_cast<std::uint64_t>(due_ms));
    key.append(token);
    return key;
}

// layout, tail id (u64), group length (u32), group, tail
std::string encode_held(const HeldPush& held) {
    std::string out(1, held_layout);
    out += codec::encode_u64(held.tail_id);
    out += codec::encode_u32(static_cast<std::uint32_t>(held.group.size()));
    out += held.group;
    out += held.tail;
    return out;
}

HeldPush decode_held(std::string_view key, std::string_view record) {
    if (key.size() < 8 || record.size() < 13 || record[0] != held_layout) {
        throw StoreError(StoreErrc::corrupt, "held push record: unknown layout or size " + std::to_string(record.size()));
    }
    HeldPush held;
    held.due_ms = static_cast<std::int64_t>(codec::outbox_id(key.substr(0, 8)));
    held.token.assign(key.substr(8));
    held.tail_id = codec::decode_u64(record.substr(1, 8), "held tail id");
    const std::uint32_t group_size = codec::decode_u32(record.substr(9, 4), "held group size");
    if (group_size > record.size() - 13) {
        throw StoreError(StoreErrc::corrupt, "held push record: group longer than the record");
    }
    held.group.assign(record.substr(13, group_size));
    held.tail.assign(record.substr(13 + group_size));
    return held;
}

}  // namespace

void Store::budget_write(std::span<const BudgetWrite> writes) {
    if (writes.empty()) return;
    auto txn = impl_->write();
    impl_->write_budget(txn, writes);
    txn.commit();
}

void Store::Impl::write_budget(lmdb::Txn& txn, std::span<const BudgetWrite> writes) const {
    for (const BudgetWrite& write : writes) {
        switch (write.kind) {
            case BudgetWrite::Kind::device:
                txn.put(budgets, write.hold.token, encode_budget(write.device));
                break;
            case BudgetWrite::Kind::hold:
                txn.put(held, held_key(write.hold.due_ms, write.hold.token), encode_held(write.hold));
                break;
            case BudgetWrite::Kind::release:
                txn.erase(held, held_key(write.hold.due_ms, write.hold.token));
                break;
        }
    }
}

std::vector<std::optional<DeviceBudget>> Store::device_budgets(std::span<const std::string_view> tokens) const {
    std::vector<std::optional<DeviceBudget>> budgets(tokens.size());
    if (tokens.empty() || !impl_->budget) return budgets;
    auto txn = impl_->read();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (auto record = txn.find(impl_->budgets, tokens[i])) budgets[i] = decode_budget(*record);
    }
    return budgets;
}

std::optional<DeviceBudget> Store::device_budget(std::string_view token) const {
    return device_budgets(std::span(&token, 1)).front();
}

std::vector<HeldPush> Store::held_pushes(std::size_t limit) const {
    std::vector<HeldPush> held;
    if (!impl_->budget) return held;
    auto txn = impl_->read();
    lmdb::Cursor cursor(txn, impl_->held);
    for (bool more = cursor.first(); more && held.size() < limit; more = cursor.next()) {
        held.push_back(decode_held(cursor.key(), cursor.value()));
    }
    return held;
}

std::optional<HeldPush> Store::held_push(std::int64_t due_ms, std::string_view token) const {
    if (!impl_->budget) return std::nullopt;
    auto txn = impl_->read();
    const std::string key = held_key(due_ms, token);
    const auto record = txn.find(impl_->held, key);
    if (!record) return std::nullopt;
    return decode_held(key, *record);
}

std::size_t Store::held_count() const {
    if (!impl_->budget) return 0;
    auto txn = impl_->read();
    return txn.entries(impl_->held);
}

}  // namespace pushsync
