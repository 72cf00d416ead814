// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// RAII owners for LMDB handles (environment, transaction, cursor) and the one place where LMDB
// return codes become StoreError, so every caller reports a full map, corruption and IO failures
// the same way and names the store's path.
#include <lmdb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace pushsync::lmdb {

// MDB_MAP_FULL / MDB_TXN_FULL -> full; MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID -> corrupt;
// anything else -> unavailable. `what` names the operation, `path` the environment.
[[noreturn]] void throw_error(int rc, std::string_view what, const std::string& path);

inline void check(int rc, std::string_view what, const std::string& path) {
    if (rc != MDB_SUCCESS) throw_error(rc, what, path);
}

inline MDB_val to_val(std::string_view bytes) noexcept {
    // LMDB takes non-const pointers but never writes through them for keys and put data.
    return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

inline std::string_view from_val(const MDB_val& val) noexcept {
    return {static_cast<const char*>(val.mv_data), val.mv_size};
}

struct EnvDeleter {
    void operator()(MDB_env* env) const noexcept { mdb_env_close(env); }
};
using EnvPtr = std::unique_ptr<MDB_env, EnvDeleter>;

// Counts this process's open transactions. When another process grew the map past ours, LMDB
// answers MDB_MAP_RESIZED and the new size may be adopted only while no transaction of this
// process is open (mdb_env_set_mapsize remaps): the gate holds new transactions back meanwhile.
class TxnGate {
public:
    void enter();
    void leave() noexcept;
    // After MDB_MAP_RESIZED: adopts the size the other process set once this process has no open
    // transaction. false when that did not happen within `timeout` (say, a transaction of this
    // thread is still open around the one that failed) or the remap failed.
    bool adopt_new_size(MDB_env* env, std::chrono::milliseconds timeout);

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int open_ = 0;
    bool remapping_ = false;
};

// sync: always without holding LMDB's writer lock for the meta page's fsync. The environment is
// opened with MDB_NOMETASYNC: mdb_txn_commit still fdatasyncs the data pages under the writer lock,
// then only writes the meta page. sync_through() makes that meta page durable with mdb_env_sync,
// which takes no lock (liblmdb 0.9.24: mdb_env_sync0 is an fdatasync of the data file), so another
// process's or thread's commit runs meanwhile. The caller returns (and answers 200/201) only after
// it, so "answered means durable" holds as with LMDB's default commit; LMDB's crash safety holds
// too, since the meta page on disk only ever names data pages already fsynced.
// One fdatasync covers every commit of this process that had finished before it began: a commit
// that finds its number already covered skips its own (group commit across threads).
class CommitSync {
public:
    explicit CommitSync(bool enabled) noexcept : enabled_(enabled) {}
    CommitSync(const CommitSync&) = delete;
    CommitSync& operator=(const CommitSync&) = delete;

    bool enabled() const noexcept { return enabled_; }
    // Call once mdb_txn_commit succeeded: the commit's number (0 when disabled: nothing to sync).
    std::uint64_t number_commit() noexcept;
    // Returns once every commit numbered up to `commit` is on disk; the caller may begin its next
    // transaction before calling it. Counted in `gate` while syncing: mdb_env_sync reads the meta
    // pages through the map, which TxnGate::adopt_new_size must not remap meanwhile. Throws
    // StoreError{unavailable} when the sync fails: the transaction is committed but may not be durable.
    void sync_through(std::uint64_t commit, MDB_env* env, TxnGate& gate, const std::string& path);
    std::uint64_t syncs() const noexcept { return syncs_.load(std::memory_order_relaxed); }  // for tests

private:
    bool enabled_;
    std::atomic<std::uint64_t> committed_{0};  // commits of this process that have returned
    std::atomic<std::uint64_t> syncs_{0};      // fdatasyncs done by sync_through
    std::mutex mutex_;          // one sync at a time: the commits queued behind it are often covered
    std::uint64_t synced_ = 0;  // guarded by mutex_: commits numbered up to this one are on disk
};

// One reset read transaction kept for the next reader of this process. mdb_txn_renew keeps the
// reader slot of the reset handle, so a reader begun from it takes neither the reader table's lock
// (MDB_NOTLS gives every new transaction a slot under that lock, shared with every process of the
// store) nor an allocation: the nginx worker's one lookup per notify. A reset handle holds no
// snapshot, so it keeps no old pages from reuse. Any thread may take it (MDB_NOTLS).
class SpareReader {
public:
    SpareReader() = default;
    ~SpareReader();
    SpareReader(const SpareReader&) = delete;
    SpareReader& operator=(const SpareReader&) = delete;

    // A reset handle, or nullptr when none is spare (another thread holds it, or none ended yet).
    MDB_txn* take() noexcept { return spare_.exchange(nullptr, std::memory_order_acquire); }
    // Resets a finished read transaction and keeps it, or aborts it when one is kept already.
    void give(MDB_txn* txn) noexcept;

private:
    std::atomic<MDB_txn*> spare_{nullptr};
};

// A transaction that aborts unless committed. The string_views it hands out point into the map
// and stay valid only until the transaction ends or (write transactions) the next change.
class Txn {
public:
    // `durable`: a write transaction whose commit must be followed by CommitSync::sync_through.
    Txn(MDB_env* env, TxnGate& gate, bool write, const std::string& path, CommitSync* durable = nullptr);
    // A read transaction renewed from `spare` when it holds one; handed back to it at the end.
    Txn(MDB_env* env, TxnGate& gate, SpareReader& spare, const std::string& path);
    ~Txn();
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;

    MDB_txn* get() const noexcept { return txn_; }
    const std::string& path() const noexcept { return *path_; }

    // Throws StoreError; the transaction is gone either way. With a CommitSync: returns only once
    // the commit is durable.
    void commit();
    // The same, except that the sync is the caller's: returns the commit's number for
    // CommitSync::sync_through (0: nothing to sync), to be awaited before anyone learns of it.
    std::uint64_t commit_unsynced();

    std::optional<std::string_view> find(MDB_dbi dbi, std::string_view key) const;
    void put(MDB_dbi dbi, std::string_view key, std::string_view value);
    bool put_if_absent(MDB_dbi dbi, std::string_view key, std::string_view value);  // false: key existed
    bool erase(MDB_dbi dbi, std::string_view key);  // false: key was absent
    std::size_t entries(MDB_dbi dbi) const;

private:
    void end() noexcept;

    MDB_txn* txn_ = nullptr;
    MDB_env* env_;
    TxnGate* gate_;
    const std::string* path_;
    CommitSync* durable_;
    SpareReader* spare_ = nullptr;
};

// A cursor over one database. In a write transaction it must be destroyed before commit().
class Cursor {
public:
    Cursor(const Txn& txn, MDB_dbi dbi);
    ~Cursor();
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;

    bool first();
    bool seek(std::string_view key);  // the first key >= key
    bool next();
    bool last();
    bool prev();
    std::string_view key() const noexcept { return from_val(key_); }
    std::string_view value() const noexcept { return from_val(value_); }

private:
    bool move(MDB_cursor_op op);

    MDB_cursor* cursor_ = nullptr;
    const std::string* path_;
    MDB_val key_{0, nullptr};
    MDB_val value_{0, nullptr};
};

}  // namespace pushsync::lmdb
