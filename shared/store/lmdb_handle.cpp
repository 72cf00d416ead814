// SPDX-License-Identifier: BSD-2-Clause
#include "shared/store/lmdb_handle.hpp"

#include <sys/statvfs.h>

#include <cerrno>

#include "shared/store/error.hpp"

namespace pushsync::lmdb {

namespace {

bool filesystem_nearly_full(const std::string& path) noexcept {
    struct statvfs fs {};
    if (::statvfs(path.c_str(), &fs) != 0) return false;
    return static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize < 1024 * 1024;
}

}  // namespace

void throw_error(int rc, std::string_view what, const std::string& path) {
    std::string message = "store " + path + ": " + std::string(what) + ": " + mdb_strerror(rc);
    switch (rc) {
        case MDB_MAP_FULL:
        case MDB_TXN_FULL:
        // The disk under the map filled before the map did: to the client the same 507, and the
        // transaction was aborted, so nothing was written.
        case ENOSPC:
        case EDQUOT:
            throw StoreError(StoreErrc::full, message);
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case MDB_INVALID:
            throw StoreError(StoreErrc::corrupt, message);
        default:
            throw StoreError(StoreErrc::unavailable, message);
    }
}

void TxnGate::enter() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !remapping_; });
    ++open_;
}

void TxnGate::leave() noexcept {
    std::lock_guard lock(mutex_);
    if (--open_ == 0 && remapping_) changed_.notify_all();
}

bool TxnGate::adopt_new_size(MDB_env* env, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (remapping_) {  // another thread is at it already: wait for its result
        changed_.wait(lock, [&] { return !remapping_; });
        return true;
    }
    remapping_ = true;
    bool idle = changed_.wait_for(lock, timeout, [&] { return open_ == 0; });
    // Size 0: take the size the environment's meta page records now.
    bool adopted = idle && mdb_env_set_mapsize(env, 0) == MDB_SUCCESS;
    remapping_ = false;
    changed_.notify_all();
    return adopted;
}

std::uint64_t CommitSync::number_commit() noexcept {
    if (!enabled_) return 0;
    // Numbered after mdb_txn_commit returned: every commit numbered <= n had written its meta
    // page (into the page cache) before anyone read n.
    return committed_.fetch_add(1) + 1;
}

void CommitSync::sync_through(std::uint64_t mine, MDB_env* env, TxnGate& gate, const std::string& path) {
    if (!enabled_ || mine == 0) return;
    gate.enter();
    struct LeaveGate {
        TxnGate* gate;
        ~LeaveGate() { gate->leave(); }
    } leave{&gate};
    std::lock_guard lock(mutex_);
    if (synced_ >= mine) return;  // a sync that began after our commit has finished
    std::uint64_t covered = committed_.load();
    check(mdb_env_sync(env, 1), "sync after commit", path);
    syncs_.fetch_add(1, std::memory_order_relaxed);
    synced_ = covered;
}

Txn::Txn(MDB_env* env, TxnGate& gate, bool write, const std::string& path, CommitSync* durable)
    : env_(env), gate_(&gate), path_(&path), durable_(write ? durable : nullptr) {
    for (int attempt = 0;; ++attempt) {
        gate.enter();
        int rc = mdb_txn_begin(env, nullptr, write ? 0u : MDB_RDONLY, &txn_);
        if (rc == MDB_SUCCESS) return;
        txn_ = nullptr;
        gate.leave();
        if (rc == MDB_MAP_RESIZED) {
            if (attempt < 3 && gate.adopt_new_size(env, std::chrono::seconds(2))) continue;
            throw StoreError(StoreErrc::unavailable,
                             "store " + path + ": another process grew the map and this process could not follow; "
                             "restart it");
        }
        throw_error(rc, write ? "begin write transaction" : "begin read transaction", path);
    }
}

SpareReader::~SpareReader() {
    if (MDB_txn* txn = take()) mdb_txn_abort(txn);
}

void SpareReader::give(MDB_txn* txn) noexcept {
    mdb_txn_reset(txn);
    MDB_txn* none = nullptr;
    if (!spare_.compare_exchange_strong(none, txn, std::memory_order_release, std::memory_order_relaxed)) {
        mdb_txn_abort(txn);
    }
}

Txn::Txn(MDB_env* env, TxnGate& gate, SpareReader& spare, const std::string& path)
    : env_(env), gate_(&gate), path_(&path), durable_(nullptr) {
    gate.enter();
    if (MDB_txn* reset = spare.take()) {
        if (mdb_txn_renew(reset) == MDB_SUCCESS) {
            txn_ = reset;
            spare_ = &spare;
            return;
        }
        // A failed renew (say MDB_MAP_RESIZED) leaves the handle finished: drop it, and let a
        // fresh begin below meet the same condition and handle it.
        mdb_txn_abort(reset);
    }
    gate.leave();
    Txn fresh(env, gate, false, path);
    txn_ = fresh.txn_;
    fresh.txn_ = nullptr;  // its gate entry is ours now
    spare_ = &spare;
}

Txn::~Txn() {
    if (txn_ != nullptr) {
        if (spare_ != nullptr) spare_->give(txn_);
        else mdb_txn_abort(txn_);
        end();
    }
}

void Txn::end() noexcept {
    txn_ = nullptr;
    gate_->leave();
}

void Txn::commit() {
    const std::uint64_t number = commit_unsynced();
    // Outside LMDB's writer lock (released by mdb_txn_commit): other writers proceed meanwhile.
    if (number != 0) durable_->sync_through(number, env_, *gate_, *path_);
}

std::uint64_t Txn::commit_unsynced() {
    int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;  // mdb_txn_commit frees the transaction even when it fails
    gate_->leave();
    // LMDB reports a short page write as EIO: a disk that filled up writes short, so EIO on a
    // nearly full filesystem is the disk's ENOSPC (507 store_full to clients, not 503).
    if (rc == EIO && filesystem_nearly_full(*path_)) rc = ENOSPC;
    check(rc, "commit", *path_);
    return durable_ != nullptr ? durable_->number_commit() : 0;
}

std::optional<std::string_view> Txn::find(MDB_dbi dbi, std::string_view key) const {
    MDB_val k = to_val(key);
    MDB_val v{0, nullptr};
    int rc = mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    check(rc, "read", *path_);
    return from_val(v);
}

void Txn::put(MDB_dbi dbi, std::string_view key, std::string_view value) {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    check(mdb_put(txn_, dbi, &k, &v, 0), "write", *path_);
}

bool Txn::put_if_absent(MDB_dbi dbi, std::string_view key, std::string_view value) {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    int rc = mdb_put(txn_, dbi, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) return false;
    check(rc, "write", *path_);
    return true;
}

bool Txn::erase(MDB_dbi dbi, std::string_view key) {
    MDB_val k = to_val(key);
    int rc = mdb_del(txn_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    check(rc, "delete", *path_);
    return true;
}

std::size_t Txn::entries(MDB_dbi dbi) const {
    MDB_stat stat{};
    check(mdb_stat(txn_, dbi, &stat), "stat", *path_);
    return stat.ms_entries;
}

Cursor::Cursor(const Txn& txn, MDB_dbi dbi) : path_(&txn.path()) {
    check(mdb_cursor_open(txn.get(), dbi, &cursor_), "open cursor", *path_);
}

Cursor::~Cursor() {
    mdb_cursor_close(cursor_);
}

bool Cursor::move(MDB_cursor_op op) {
    int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
    if (rc == MDB_NOTFOUND) return false;
    check(rc, "cursor", *path_);
    return true;
}

bool Cursor::first() {
    return move(MDB_FIRST);
}

bool Cursor::seek(std::string_view key) {
    key_ = to_val(key);
    return move(MDB_SET_RANGE);
}

bool Cursor::next() {
    return move(MDB_NEXT);
}

bool Cursor::last() {
    return move(MDB_LAST);
}

bool Cursor::prev() {
    return move(MDB_PREV);
}

}  // namespace pushsync::lmdb
