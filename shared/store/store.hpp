// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The LMDB store shared by the module, the sender and the CLI (docs/architecture.md, "The store").
// One Store per process, opened after any fork. Every method that changes several databases does
// so in one write transaction. Thread-safe: LMDB serialises writers; reads use their own txn
// (the environment is opened with MDB_NOTLS).
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/config/config.hpp"
#include "shared/device.hpp"
#include "shared/store/error.hpp"
#include "shared/store/stats.hpp"

namespace pushsync {

struct StoreOptions {
    std::string path;  // LMDB environment directory, created if missing
    std::uint64_t map_size = 1ull << 30;
    SyncMode sync = SyncMode::always;
    std::uint32_t sync_interval_ms = 100;  // interval mode: a background thread flushes this often
    bool read_only = false;                // CLI read commands
    // sync: always only. false (the default): the environment is opened with MDB_NOMETASYNC and
    // each write fsyncs the meta page after LMDB's writer lock is released, before returning
    // (lmdb_handle.hpp, CommitSync). true: LMDB's plain durable commit, both fsyncs under the
    // writer lock; kept so bench_store can measure the two side by side.
    bool meta_sync_under_writer_lock = false;
    // Limits on registrations only (register_devices), 0 = none. pushsync.yaml's defaults are 1000
    // and 10; StoreOptions leaves them off for the CLI, tests and benchmarks that build it by hand.
    std::uint32_t max_devices_per_group = 0;  // a new member beyond it is refused (group_full)
    std::uint32_t reserve_percent = 0;        // below this share of the map free: StoreError{full}

    static StoreOptions from(const StoreConfig& config);
};

struct Registration {
    std::string token;  // already validated: lowercase for apns, as given for fcm
    std::string group;
    std::string bundle_id;
    Environment environment = Environment::production;
    std::string app_version;  // empty: none
    Platform platform = Platform::apns;  // last: brace-initialised APNs registrations stay apns
};

struct RegisterResult {
    bool created = false;     // 201 when true, 200 when false
    Device device;            // as stored now
    std::string moved_from;   // the previous group when the token moved, else empty
    // Refused, nothing written: the group already holds max_devices_per_group devices and this
    // token is not one of them (HTTP 409 group_full). `device` is then only what was asked for.
    bool group_full = false;
};

struct GroupInfo {
    std::size_t devices = 0;     // 0: the group does not exist
    bool origin_member = false;  // the origin token asked about is in the group
};

enum class PruneOutcome { removed, kept_reregistered, kept_other_environment, not_found };

struct GroupCount {
    std::string group;
    std::size_t devices = 0;
};

struct StoreStats {
    std::size_t devices = 0;
    std::size_t groups = 0;
    struct PerApp {
        std::string bundle_id;
        Environment environment;
        std::size_t devices;
        Platform platform = Platform::apns;
    };
    std::vector<PerApp> per_app;  // sorted by bundle_id, then environment, then platform
    std::uint64_t map_used = 0;   // bytes in use (last page number * page size)
    std::uint64_t map_size = 0;
    std::size_t outbox = 0;       // notifies waiting in the outbox
};

// A notify moved from the queue into the store by the sender, kept until its pushes finish.
struct OutboxEntry {
    std::uint64_t id = 0;  // the queue position; unique, increasing
    std::string group;
    std::string tail;
    std::string origin;    // empty: none
    std::int64_t enqueued_ms = 0;
};

// The per-device push budget (delivery.device_min_interval_s; sender/dispatch/holds.hpp).
struct DeviceBudget {
    std::int64_t last_push_ms = 0;    // Unix ms when the last push to the device was started
    std::int64_t held_until_ms = 0;   // 0: no push waiting; else its held push's due time
    std::uint64_t held_tail_id = 0;   // the outbox id of the waiting push's tail (a newer one replaces it)
};

// A push waiting for its device's budget: indexed by (due_ms, token), so the sender finds the
// next ones due with one cursor and never holds them all in memory.
struct HeldPush {
    std::int64_t due_ms = 0;
    std::string token;
    std::string group;
    std::string tail;
    std::uint64_t tail_id = 0;
};

struct BudgetWrite {
    enum class Kind : std::uint8_t {
        device,   // put `device` for hold.token
        hold,     // put `hold` (replacing the same due_ms + token)
        release,  // erase the hold at hold.due_ms + hold.token
    };
    Kind kind = Kind::device;
    HeldPush hold;
    DeviceBudget device;
};

class Store;

// Writes whose durability their caller awaits itself (sync: always). A write given one returns
// once LMDB committed it and released its writer lock, before its meta page is on disk, and is
// recorded here; nobody may learn of it before wait() returned. The module's group commit passes
// one, so that a worker's next batch writes while this batch's meta page is synced. Where a commit
// is durable when it returns (sync: interval, meta_sync_under_writer_lock) wait() does nothing.
class DeferredSync {
public:
    // Returns once every write recorded here is on disk. Throws StoreError{unavailable} when the
    // sync fails: the writes are committed but may not be durable.
    void wait();

private:
    friend class Store;
    void record(Store& store, std::uint64_t commit) noexcept;

    Store* store_ = nullptr;
    std::uint64_t commit_ = 0;  // the newest commit recorded; 0: nothing to sync
};

class Store {
public:
    explicit Store(const StoreOptions& options);  // throws StoreError
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const StoreOptions& options() const noexcept;

    // --- registrations -------------------------------------------------------------------
    // All of the batch in one write transaction (group commit); results in the same order.
    // A token registered in another group moves (leaves the old group); registered_at is kept.
    // Throws StoreError{full} with nothing written, also when less than reserve_percent of the map
    // is free (the room the sender's outbox and removals keep).
    // With `deferred`: returns before the commit is durable (DeferredSync).
    std::vector<RegisterResult> register_devices(std::span<const Registration> batch, std::int64_t now_ms,
                                                 DeferredSync* deferred = nullptr);
    RegisterResult register_device(const Registration& registration, std::int64_t now_ms);
    // false: that token is not registered in that group (nothing changed).
    bool unregister_device(std::string_view group, std::string_view token);
    // Batch form for the module's group commit: results in the same order. With `deferred`:
    // returns before the commit is durable (DeferredSync).
    std::vector<bool> unregister_devices(std::span<const std::pair<std::string, std::string>> group_token,
                                         DeferredSync* deferred = nullptr);

    // --- reads ---------------------------------------------------------------------------
    std::optional<Device> get_device(std::string_view token) const;
    std::vector<Device> list_group(std::string_view group) const;  // sorted by token
    // The fan-out: visits the group's devices in token order inside one read transaction.
    void for_each_in_group(std::string_view group, const std::function<void(const Device&)>& visit) const;
    // One page of it, so a huge group fans out a page at a time: at most `limit` devices after
    // the token `after` ("" = from the first; limit 0 = all), in one read transaction. Returns the token to go on
    // after, or nullopt when the group is done.
    std::optional<std::string> for_each_in_group(std::string_view group, std::string_view after, std::size_t limit,
                                                 const std::function<void(const Device&)>& visit) const;
    // The API's listing (docs/api.md 1.2): like for_each_in_group, in the order of
    // HMAC-SHA-256(the store's listing secret, token) — the same in every process and across
    // restarts, and telling nothing of the tokens. `after` is the token the previous page ended
    // with (it need not be registered any more). A read-only open of a version 1 store: by token.
    std::optional<std::string> list_page(std::string_view group, std::string_view after, std::size_t limit,
                                         const std::function<void(const Device&)>& visit) const;
    // 32 bytes for sealing the listing's cursors, made from the listing secret: every worker,
    // reload and restart accepts the cursors of the others.
    const std::string& cursor_key() const noexcept;
    GroupInfo group_info(std::string_view group, std::string_view origin) const;
    std::vector<GroupCount> list_groups(std::size_t limit) const;  // sorted by group; 0 = all
    StoreStats stats() const;

    // --- APNs rejections (docs/architecture.md, "Failure semantics") ---------------------------
    // 410 Unregistered: removed unless the device registered again after apns_timestamp_ms
    // (last_seen_ms > apns_timestamp_ms), or it is registered for the other environment now.
    PruneOutcome prune_unregistered(std::string_view token, Environment environment, std::int64_t apns_timestamp_ms);
    // 400 BadDeviceToken / DeviceTokenNotForTopic: removed only if registered for that environment.
    PruneOutcome prune_rejected(std::string_view token, Environment environment);

    // --- administration ------------------------------------------------------------------
    std::size_t remove_group(std::string_view group);  // devices removed
    // Devices with last_seen_ms < cutoff_ms; removes them unless dry_run. Visits each one removed
    // (or, with dry_run, found), in token order. The scan runs in read transactions of at most
    // gc_scan_batch devices and the removals in write transactions of at most `batch` devices, each
    // re-checked there (a device registered again since the scan stays), so registrations wait for
    // one small transaction, never for a scan of the whole store. `between_batches` runs after each
    // batch (tests: a registration made meanwhile).
    static constexpr std::size_t gc_batch = 1000;
    static constexpr std::size_t gc_scan_batch = 10000;
    std::size_t gc(std::int64_t cutoff_ms, bool dry_run, const std::function<void(const Device&)>& visit = {},
                   std::size_t batch = gc_batch, const std::function<void()>& between_batches = {});
    // One device object (device_to_json) per line, in token order; with `include`, only the
    // devices of the groups it accepts (moving groups between shards). with_delivery: each line
    // also holds "delivery", the device's statistics and the newest tail sent to it, which
    // import_jsonl writes back — so a device moved to another shard keeps them.
    std::size_t export_jsonl(std::ostream& out, const std::function<bool(std::string_view group)>& include = {},
                             bool with_delivery = false) const;
    // Lines of export_jsonl; all in one transaction; a bad line throws std::invalid_argument
    // "line N: problem" and imports nothing. replace: a line replaces the stored device.
    // merge: a device already stored keeps the earlier registered_at, and the fields of whichever
    // record was seen last — so copying a shard's changes again never undoes a newer refresh.
    enum class ImportMode { replace, merge };
    std::size_t import_jsonl(std::istream& in, ImportMode mode = ImportMode::replace);
    // Removes every group `include` accepts, in one transaction; returns {groups, devices} removed.
    std::pair<std::size_t, std::size_t> remove_groups(const std::function<bool(std::string_view group)>& include);
    // LMDB's compacting copy (mdb_env_copy2, MDB_CP_COMPACT) into `dir`, consistent as of one read
    // transaction while others write. `dir` is made 0770 when missing and must hold no data.mdb;
    // the copy is made 0660. Throws StoreError{unavailable}.
    void backup(const std::string& dir) const;
    // Index against records, both ways; each problem is one line. Empty: consistent.
    std::vector<std::string> check() const;

    // --- the sender's outbox and per-device dedupe --------------------------------------
    void outbox_put(std::span<const OutboxEntry> entries);  // one transaction; existing ids are kept
    std::vector<OutboxEntry> outbox_load(std::size_t limit) const;  // by id, ascending; 0 = all
    // Entries with from <= id < below, by id ascending, at most `limit` (> 0): the sender takes
    // back in order what its consumer stored without handing it to the loop.
    std::vector<OutboxEntry> outbox_load_range(std::uint64_t from, std::uint64_t below, std::size_t limit) const;
    void outbox_remove(std::span<const std::uint64_t> ids);
    // The newest tail pushed to a token (so the same tail never goes twice to a device).
    std::optional<std::string> last_sent_tail(std::string_view token) const;
    // The same for many tokens in one read transaction: for each token, whether its newest pushed
    // tail is the tail paired with it.
    std::vector<bool> were_sent(std::span<const std::pair<std::string_view, std::string_view>> token_tail) const;
    void record_sent(std::span<const std::pair<std::string, std::string>> token_tail);

    // --- delivery statistics (shared/store/stats.hpp) -------------------------------------------
    // The sender's batch in one write transaction: delivered tails (as record_sent), outcomes
    // added to devices still registered (a device pruned meanwhile gets none), events appended
    // to the ring (the oldest beyond recent_events_kept dropped).
    void record_delivery(std::span<const std::pair<std::string, std::string>> token_tail,
                         std::span<const PushOutcome> outcomes, std::span<const StoreEvent> events);
    // Empty DeviceStats when the device has none (or is unknown).
    DeviceStats device_stats(std::string_view token) const;
    // The same for many tokens in one read transaction (a page of a group), in the same order.
    std::vector<DeviceStats> device_stats(std::span<const std::string> tokens) const;
    // Newest first: at most `limit` events with seq < before_seq (0: from the newest).
    std::vector<StoreEvent> recent_events(std::size_t limit, std::uint64_t before_seq = 0) const;
    // Devices per (bundle_id, environment), sorted; kept with every registration and removal, so
    // this reads a handful of records, never the devices.
    std::vector<AppDeviceCount> device_counts() const;

    // --- the per-device push budget (shared/store/budget.cpp) --------------------------
    void budget_write(std::span<const BudgetWrite> writes);  // in order, one transaction
    // For each token, its budget record (nullopt: none), in one read transaction.
    std::vector<std::optional<DeviceBudget>> device_budgets(std::span<const std::string_view> tokens) const;
    std::optional<DeviceBudget> device_budget(std::string_view token) const;
    // The first `limit` waiting pushes, soonest due first.
    std::vector<HeldPush> held_pushes(std::size_t limit) const;
    std::optional<HeldPush> held_push(std::int64_t due_ms, std::string_view token) const;
    std::size_t held_count() const;

    // --- the sender loop's writes (sender/dispatch/store_writer.hpp) ---------------------------------
    // record_delivery's, budget_write's and outbox_remove's writes, in that order, in one
    // transaction: one commit (and with sync: always one fsync) for all that a loop collected.
    struct LoopWrites {
        std::span<const std::pair<std::string, std::string>> token_tail;
        std::span<const PushOutcome> outcomes;
        std::span<const StoreEvent> events;
        std::span<const BudgetWrite> budget;
        std::span<const std::uint64_t> outbox_removed;
    };
    void write_loop_batch(const LoopWrites& writes);

    // Forces an fsync now (interval mode); no-op with sync: always.
    void sync();

    // The LMDB environment flags (mdb_env_get_flags: MDB_NOTLS, MDB_NOSYNC, MDB_NOMETASYNC, ...),
    // so tests and diagnostics can see which durability mode is in force.
    unsigned environment_flags() const;
    // fdatasyncs done after commits by this Store (sync: always); fewer than the write
    // transactions when one sync covered several commits. For tests and benchmarks.
    std::uint64_t commit_syncs() const noexcept;

private:
    friend class StoreSnapshot;  // shared/store/snapshot.hpp: bounded reads in one transaction
    friend class DeferredSync;
    void sync_through(std::uint64_t commit);  // DeferredSync::wait
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pushsync
