#pragma once
// RAII owners for LMDB handles (environment, transaction, cursor) and the one place where LMDB
// return codes become StoreError, so every caller reports a full map, corruption and IO failures
// the same way and names the store's path.
#include <lmdb.h>

#include <memory>
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

// A transaction that aborts unless committed. The string_views it hands out point into the map
// and stay valid only until the transaction ends or (write transactions) the next change.
class Txn {
public:
    Txn(MDB_env* env, bool write, const std::string& path);
    ~Txn();
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;

    MDB_txn* get() const noexcept { return txn_; }
    const std::string& path() const noexcept { return *path_; }

    void commit();  // throws StoreError; the transaction is gone either way

    std::optional<std::string_view> find(MDB_dbi dbi, std::string_view key) const;
    void put(MDB_dbi dbi, std::string_view key, std::string_view value);
    bool put_if_absent(MDB_dbi dbi, std::string_view key, std::string_view value);  // false: key existed
    bool erase(MDB_dbi dbi, std::string_view key);  // false: key was absent
    std::size_t entries(MDB_dbi dbi) const;

private:
    MDB_txn* txn_ = nullptr;
    const std::string* path_;
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
