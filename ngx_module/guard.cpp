#include "ngx_module/guard.hpp"

namespace pushsync::ngx {

void log_failure(ngx_log_t* log, ngx_uint_t level, const char* event, const Failure& failure) noexcept {
    ngx_log_error(level, log, 0, "pushsync: %s: %s", event, failure.what);
}

}  // namespace pushsync::ngx
