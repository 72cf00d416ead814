// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The inside of Store, shared by store.cpp (opening, registrations, reads, pruning, the outbox)
// and shared/store/admin.cpp (gc, export/import, check, stats). Not for use outside shared/.
#include <lmdb.h>

#include <nlohmann/json_fwd.hpp>
#include <thread>

#include "shared/store/lmdb_handle.hpp"
#include "shared/store/store.hpp"

namespace pushsync {

struct Store::Impl {
    explicit Impl(const StoreOptions& opts);
    ~Impl();

    StoreOptions options;
    lmdb::EnvPtr env;
    mutable lmdb::TxnGate gate;  // this process's open transactions, for adopting a grown map
    mutable lmdb::SpareReader spare_reader;  // closed before env (declared after it)
    // sync: always: every write transaction's commit is followed by its meta page's fsync.
    mutable lmdb::CommitSync commit_sync{options.sync == SyncMode::always && !options.read_only &&
                                         !options.meta_sync_under_writer_lock};
    MDB_dbi devices = 0;       // token -> device record (store_codec)
    MDB_dbi groups = 0;        // group \0 token -> empty
    MDB_dbi group_counts = 0;  // group -> u64 device count, kept in step with `groups`
    MDB_dbi meta = 0;          // schema_version -> u32, list_secret -> 32 bytes
    // The API's listing order (schema 2): group \0 HMAC(list_secret, token) -> token, kept in step
    // with `groups`. A read-only open of a version 1 store finds none: keyed_order is false and
    // list_page walks `groups` in token order.
    MDB_dbi group_order = 0;
    bool keyed_order = false;
    std::string list_secret;   // codec::list_secret_bytes; empty without keyed_order
    std::string cursor_key;    // derived from list_secret (a random one without it)
    MDB_dbi outbox = 0;        // big-endian id -> outbox entry
    MDB_dbi sent = 0;          // token -> the newest tail pushed to it
    // Delivery statistics (shared/store/stats.cpp). A read-only open of a store that no writer of this
    // version has opened yet finds none: `statistics` is false and reads answer empty.
    MDB_dbi device_stats = 0;  // token -> DeviceStats record
    MDB_dbi app_counts = 0;    // bundle_id \0 environment -> u64 devices
    MDB_dbi events = 0;        // big-endian seq -> StoreEvent record
    bool statistics = false;
    MDB_dbi budgets = 0;       // token -> DeviceBudget (shared/store/budget.cpp)
    MDB_dbi held = 0;          // big-endian due_ms, token -> held push (shared/store/budget.cpp)
    bool budget = false;       // the same for these two
    std::jthread flusher;      // sync: interval only; declared last so it stops before env closes

    lmdb::Txn read() const { return lmdb::Txn(env.get(), gate, spare_reader, options.path); }
    lmdb::Txn write() const { return lmdb::Txn(env.get(), gate, true, options.path, &commit_sync); }

    // Opens the named databases and checks the schema. Without `create`: false when the store is
    // not initialised yet. Throws StoreError{newer_schema}.
    bool open_databases(bool create);
    // The listing order's index and secret (schema 2) inside open_databases' transaction. Without
    // `create`: false when a writer must make or refill them first.
    bool open_listing_order(lmdb::Txn& txn, bool create);
    std::string order_key(std::string_view group, std::string_view token) const;

    // Throws StoreError{full} when less than options.reserve_percent of the map is free. Called
    // inside a write transaction, whose writer lock makes the snapshot it reads the current state.
    void check_reserve() const;
    // Whether a registration of `token` into `group` would exceed max_devices_per_group.
    bool group_is_full(const lmdb::Txn& txn, std::string_view group) const;

    // Building blocks of the write operations; each runs inside the caller's transaction.
    std::optional<Device> find_device(const lmdb::Txn& txn, std::string_view token) const;
    void add_to_group(lmdb::Txn& txn, std::string_view group, std::string_view token) const;
    void remove_from_group(lmdb::Txn& txn, std::string_view group, std::string_view token) const;
    // Writes the record and moves the index entry when the group changed.
    void put_device(lmdb::Txn& txn, const Device& device, const std::optional<Device>& previous) const;
    void remove_device(lmdb::Txn& txn, const Device& device) const;
    // app_counts += delta for the device's app and environment (shared/store/stats.cpp).
    void count_app(lmdb::Txn& txn, const Device& device, std::int64_t delta) const;
    // Fills app_counts from the devices: once, when a store gets the database (shared/store/stats.cpp).
    void rebuild_app_counts(lmdb::Txn& txn) const;
    // The statistics' reads inside the caller's transaction (shared/store/stats.cpp), so a reader such
    // as StoreSnapshot sees them and the devices at one moment. Empty without statistics.
    DeviceStats read_device_stats(const lmdb::Txn& txn, std::string_view token) const;
    // A device's delivery state for moving it between shards (shared/store/stats.cpp): its statistics and
    // the newest tail sent to it, {"sent","failed","last_push","last_sent_tail"}; null when none.
    nlohmann::json delivery_record(const lmdb::Txn& txn, std::string_view token) const;
    // Writes one back (import). merge: the larger counts, the later last push, and a tail already
    // here stays. Throws std::invalid_argument naming the problem.
    void put_delivery_record(lmdb::Txn& txn, std::string_view token, const nlohmann::json& record, bool merge) const;
    std::vector<StoreEvent> read_events(const lmdb::Txn& txn, std::size_t limit, std::uint64_t before_seq) const;
    // record_delivery's and budget_write's writes inside the caller's transaction, so the sender's
    // loop commits them with its outbox removals at once (Store::write_loop_batch).
    void write_delivery(lmdb::Txn& txn, std::span<const std::pair<std::string, std::string>> token_tail,
                        std::span<const PushOutcome> outcomes, std::span<const StoreEvent> new_events) const;
    void write_budget(lmdb::Txn& txn, std::span<const BudgetWrite> writes) const;
    std::vector<AppDeviceCount> read_device_counts(const lmdb::Txn& txn) const;
    // Every device of the group, and any stray index entry of it; returns the devices removed.
    std::size_t remove_group(lmdb::Txn& txn, std::string_view group) const;
};

}  // namespace pushsync
