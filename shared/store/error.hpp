// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The store's errors, apart from the store itself: what LMDB's handle and every caller catch
// without pulling in the whole store interface.
#include <stdexcept>
#include <string>

namespace pushsync {

enum class StoreErrc {
    full,          // MDB_MAP_FULL: the write was aborted, the store is unchanged (HTTP 507)
    unavailable,   // cannot open / IO error (HTTP 503)
    newer_schema,  // written by a newer pushsync: refused
    corrupt,       // a record that does not decode
};

class StoreError : public std::runtime_error {
public:
    StoreError(StoreErrc code, const std::string& what) : std::runtime_error(what), code_(code) {}
    StoreErrc code() const noexcept { return code_; }

private:
    StoreErrc code_;
};

}  // namespace pushsync
