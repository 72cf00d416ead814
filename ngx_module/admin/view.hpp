// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One admin request answered from the store and the queue file, without nginx: the request is
// parsed, the store read in one StoreSnapshot (one read transaction, bounded reads), the page
// rendered. The nginx handler only adds the method check and the headers.
#include <string>
#include <string_view>

#include "ngx_module/admin/pages.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace pushsync::admin {

struct AdminAnswer {
    int status = 200;
    std::string_view content_type;  // a literal
    std::string body;
};

inline constexpr std::string_view html_type = "text/html; charset=utf-8";
inline constexpr std::string_view css_type = "text/css; charset=utf-8";

// `store`/`queue`: nullptr when unavailable (the overview says so; other pages answer 503).
AdminAnswer answer_admin(std::string_view path, std::string_view query, const PageFrame& frame, const Store* store,
                         const Queue* queue);

}  // namespace pushsync::admin
