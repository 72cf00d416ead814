// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/guard.hpp"

#include <array>

#include "shared/log_escape.hpp"

namespace pushsync::ngx {

void log_failure(ngx_log_t* log, ngx_uint_t level, const char* event, const Failure& failure) noexcept {
    // what() may quote a path, a store record or a request value: escaped, without allocating.
    std::array<char, 1024> what;
    const std::size_t len = log_value_into(what.data(), what.size(), failure.what);
    ngx_log_error(level, log, 0, "pushsync: %s: %*s", event, len, what.data());
}

}  // namespace pushsync::ngx
