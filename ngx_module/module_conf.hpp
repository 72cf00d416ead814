// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The module's configuration structures (allocated and zero-filled by nginx from its pools), the
// typed accessors every file uses to reach them, and the helpers that let C++ objects live in
// nginx's pools.
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ngx_module/ngx_headers.hpp"
#include "shared/config/config.hpp"

extern "C" ngx_module_t ngx_http_pushsync_module;

namespace pushsync::ngx {

class WorkerState;
}  // namespace pushsync::ngx
namespace pushsync {
class ShardRing;
}  // namespace pushsync
namespace pushsync::ngx {

// http{} level.
struct MainConf {
    ngx_str_t config_file;             // pushsync_config
    const Config* config;              // loaded at configuration time; lives in the conf pool
    ngx_str_t thread_pool_name;        // pushsync_thread_pool ("default" when unset)
    ngx_thread_pool_t* thread_pool;
    ngx_flag_t used;                   // some location serves pushsync
    WorkerState* worker;               // set in the worker by init_process; owned by the cycle pool
    const ShardRing* ring_now;         // pushsync_front_rings (a front nginx); in the conf pool
    const ShardRing* ring_next;
};

// server{} level.
struct SrvConf {
    // Some location of the server is a pushsync one (API, front, status, metrics or admin): its
    // requests' lines are cut of their device tokens (hide_tokens_in_request_line).
    ngx_flag_t serves_pushsync;
};

// kind_front: pushsync_front; — the location's paths are the API's, so $pushsync_group reads the
// group from them, but the location serves nothing itself (a front nginx routing to shards).
enum LocationKind : ngx_uint_t { kind_none = 0, kind_api, kind_status, kind_metrics, kind_admin, kind_front };

struct LocConf {
    ngx_uint_t kind;
    ngx_http_complex_value_t* push;  // pushsync_push; NULL: on
    ngx_flag_t require_origin;       // pushsync_require_origin
    ngx_flag_t list_tokens;          // pushsync_list_tokens
};

// nginx allocates these with ngx_pcalloc and never runs a constructor or destructor.
static_assert(std::is_trivial_v<MainConf> && std::is_standard_layout_v<MainConf>);
static_assert(std::is_trivial_v<SrvConf> && std::is_standard_layout_v<SrvConf>);
static_assert(std::is_trivial_v<LocConf> && std::is_standard_layout_v<LocConf>);

inline MainConf* main_conf(ngx_http_request_t* r) noexcept {
    return static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_pushsync_module));
}
inline MainConf* main_conf(ngx_conf_t* cf) noexcept {
    return static_cast<MainConf*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_pushsync_module));
}
// nullptr when the configuration has no http{} block.
inline MainConf* main_conf(ngx_cycle_t* cycle) noexcept {
    return static_cast<MainConf*>(ngx_http_cycle_get_module_main_conf(cycle, ngx_http_pushsync_module));
}
inline SrvConf* srv_conf(ngx_http_request_t* r) noexcept {
    return static_cast<SrvConf*>(ngx_http_get_module_srv_conf(r, ngx_http_pushsync_module));
}
// The server{} around the location being read, when called from a location's directive.
inline SrvConf* srv_conf(ngx_conf_t* cf) noexcept {
    return static_cast<SrvConf*>(ngx_http_conf_get_module_srv_conf(cf, ngx_http_pushsync_module));
}
inline LocConf* loc_conf(ngx_http_request_t* r) noexcept {
    return static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_pushsync_module));
}
inline ngx_http_core_loc_conf_t* core_loc_conf(ngx_http_request_t* r) noexcept {
    return static_cast<ngx_http_core_loc_conf_t*>(ngx_http_get_module_loc_conf(r, ngx_http_core_module));
}
inline ngx_http_core_loc_conf_t* core_loc_conf(ngx_conf_t* cf) noexcept {
    return static_cast<ngx_http_core_loc_conf_t*>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
}

// Constructs a T inside `pool`, destroyed when the pool is. nullptr when the pool is out of
// memory; exceptions from T's constructor propagate with nothing registered.
template <typename T, typename... Args>
T* pool_emplace(ngx_pool_t* pool, Args&&... args) {
    ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(pool, sizeof(T));
    if (cleanup == nullptr) return nullptr;
    T* object = ::new (cleanup->data) T(std::forward<Args>(args)...);
    cleanup->handler = [](void* data) noexcept { static_cast<T*>(data)->~T(); };  // called by nginx
    return object;
}

inline std::string_view view(const ngx_str_t& s) noexcept {
    return {reinterpret_cast<const char*>(s.data), s.len};
}

}  // namespace pushsync::ngx
