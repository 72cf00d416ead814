// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A front nginx for shards (docs/scaling.md). `pushsync_front_rings CURRENT NEXT;` loads the ring
// files that the front's two upstreams include (their `server …;` lines), and
// $pushsync_group_moves is "1" when the request's group has another owner on NEXT than on
// CURRENT — so while groups move, the front copies to the next ring only the requests of groups
// that move, never a second copy to the shard that already answers them.
#include "ngx_module/ngx_headers.hpp"

namespace pushsync::ngx {

char* set_front_rings(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
// $pushsync_group_moves
ngx_int_t group_moves_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t data) noexcept;

}  // namespace pushsync::ngx
