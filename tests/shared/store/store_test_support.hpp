// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Helpers for the store tests: a store in a fresh temp dir, registrations, raw LMDB access for
// faults that the Store API cannot make (a newer schema, a record that does not decode).
#include <gtest/gtest.h>
#include <lmdb.h>

#include <sstream>
#include <string>

#include "shared/store/store.hpp"
#include "tests/support/process.hpp"

namespace pushsync::test {

inline StoreOptions store_options(const std::filesystem::path& path, std::uint64_t map_size = 64ull << 20) {
    StoreOptions options;
    options.path = path.string();
    options.map_size = map_size;
    return options;
}

// A 64-hex-digit token from a number, so tokens sort like the numbers.
inline std::string token_of(std::uint64_t n) {
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(n));
    return std::string(48, 'a') + buffer;
}

inline Registration registration(std::string token, std::string group, std::string bundle = "com.example.app",
                                 Environment environment = Environment::production, std::string version = "") {
    return Registration{std::move(token), std::move(group), std::move(bundle), environment, std::move(version)};
}

inline std::string export_text(const Store& store) {
    std::ostringstream out;
    store.export_jsonl(out);
    return out.str();
}

// Writes one key into one named database of the environment at `path`, bypassing the Store.
inline void raw_put(const std::filesystem::path& path, const char* db, std::string_view key, std::string_view value) {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    ASSERT_EQ(mdb_env_open(env, path.c_str(), 0, 0664), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi dbi = 0;
    ASSERT_EQ(mdb_dbi_open(txn, db, 0, &dbi), 0);
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

}  // namespace pushsync::test
