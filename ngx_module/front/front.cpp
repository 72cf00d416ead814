// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/front/front.hpp"

#include <string>

#include "ngx_module/guard.hpp"
#include "ngx_module/handler.hpp"
#include "ngx_module/module_conf.hpp"
#include "shared/shard_ring.hpp"

namespace pushsync::ngx {

char* set_front_rings(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<MainConf*>(conf);
    if (mcf->ring_now != nullptr) return const_cast<char*>("is duplicate");
    const ShardRing* rings[2] = {nullptr, nullptr};
    for (int i = 0; i < 2; ++i) {
        ngx_str_t file = static_cast<ngx_str_t*>(cf->args->elts)[i + 1];
        // Relative names resolve as nginx's own `include` does: against the configuration prefix.
        if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) return static_cast<char*>(NGX_CONF_ERROR);
        rings[i] = guard([&] { return pool_emplace<ShardRing>(cf->pool, load_ring_file(std::string(view(file)))); },
                         [cf](const Failure& f) noexcept {
                             ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "pushsync_front_rings: %s", f.what);
                             return static_cast<ShardRing*>(nullptr);
                         });
        if (rings[i] == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
    }
    mcf->ring_now = rings[0];
    mcf->ring_next = rings[1];
    return NGX_CONF_OK;
}

ngx_int_t group_moves_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t) noexcept {
    static const u_char moves[] = "1";
    v->not_found = 1;
    const MainConf* mcf = main_conf(r);
    ngx_http_variable_value_t group{};
    if (mcf == nullptr || mcf->ring_now == nullptr || group_variable(r, &group, 0) != NGX_OK || group.not_found) {
        return NGX_OK;
    }
    const std::string_view key(reinterpret_cast<const char*>(group.data), group.len);
    const RingServer* now = mcf->ring_now->owner(key);
    const RingServer* next = mcf->ring_next->owner(key);
    const bool changes = now != nullptr && next != nullptr && now->name != next->name;
    v->data = const_cast<u_char*>(moves);
    v->len = changes ? 1 : 0;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return NGX_OK;
}

}  // namespace pushsync::ngx
