// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Values from outside (a request, the store, the queue file) in the module's log lines, escaped
// by shared/log_escape so none can end the line or forge a field. ngx_log_error checks the level
// before it evaluates its arguments, so a LogText built in the argument list costs nothing at a
// filtered level:
//   ngx_log_error(NGX_LOG_INFO, log, 0, "pushsync: registered group=%V", LogText(group).get());
#include <string>
#include <string_view>

#include "ngx_module/ngx_headers.hpp"
#include "shared/log_escape.hpp"

namespace pushsync::ngx {

class LogText {
public:
    explicit LogText(std::string_view raw) : text_(log_value(raw)) {
        str_.len = text_.size();
        str_.data = reinterpret_cast<u_char*>(text_.data());
    }
    LogText(const LogText&) = delete;
    LogText& operator=(const LogText&) = delete;

    // For %V; valid until the end of the full expression that made this LogText.
    ngx_str_t* get() noexcept { return &str_; }

private:
    std::string text_;
    ngx_str_t str_{};
};

// Logs name a device by its first 8 hex digits only.
inline std::string_view token_prefix(std::string_view token) noexcept {
    return token.substr(0, 8);
}

}  // namespace pushsync::ngx
