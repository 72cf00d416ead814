#include "shared/lmdb_handle.hpp"

#include "shared/store.hpp"

namespace pushsync::lmdb {

void throw_error(int rc, std::string_view what, const std::string& path) {
    std::string message = "store " + path + ": " + std::string(what) + ": " + mdb_strerror(rc);
    switch (rc) {
        case MDB_MAP_FULL:
        case MDB_TXN_FULL:
            throw StoreError(StoreErrc::full, message);
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case MDB_INVALID:
            throw StoreError(StoreErrc::corrupt, message);
        default:
            throw StoreError(StoreErrc::unavailable, message);
    }
}

Txn::Txn(MDB_env* env, bool write, const std::string& path) : path_(&path) {
    int rc = mdb_txn_begin(env, nullptr, write ? 0u : MDB_RDONLY, &txn_);
    if (rc == MDB_MAP_RESIZED) {
        throw StoreError(StoreErrc::unavailable,
                         "store " + path + ": another process grew the map beyond this process's map_size; "
                         "raise store.map_size and restart");
    }
    check(rc, write ? "begin write transaction" : "begin read transaction", path);
}

Txn::~Txn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
}

void Txn::commit() {
    MDB_txn* txn = txn_;
    txn_ = nullptr;  // mdb_txn_commit frees the transaction even when it fails
    check(mdb_txn_commit(txn), "commit", *path_);
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

}  // namespace pushsync::lmdb
