// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The admin page's one stylesheet, served by the module at <location>style.css so that the
// page's Content-Security-Policy can stay at style-src 'self' with no inline style.
#include <string_view>

namespace pushsync::admin {

std::string_view stylesheet() noexcept;

}  // namespace pushsync::admin
