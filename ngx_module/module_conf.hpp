#pragma once
// The module's configuration structures (allocated by nginx from its pools) and the helpers
// that let C++ objects live in those pools.
#include <new>
#include <string_view>
#include <utility>

#include "ngx_module/ngx_headers.hpp"
#include "shared/config.hpp"

extern "C" ngx_module_t ngx_http_pushsync_module;

namespace pushsync::ngx {

class WorkerState;

// http{} level. Plain C layout: nginx allocates and zero-fills it.
struct MainConf {
    ngx_str_t config_file;             // pushsync_config
    const Config* config;              // loaded at configuration time; lives in the conf pool
    ngx_str_t thread_pool_name;        // pushsync_thread_pool ("default" when unset)
    ngx_thread_pool_t* thread_pool;
    ngx_flag_t used;                   // some location serves pushsync
    WorkerState* worker;               // set in the worker by init_process; owned by the cycle pool
};

enum LocationKind : ngx_uint_t { kind_none = 0, kind_api, kind_status, kind_metrics };

struct LocConf {
    ngx_uint_t kind;
    ngx_http_complex_value_t* push;  // pushsync_push; NULL: on
    ngx_flag_t require_origin;       // pushsync_require_origin
};

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

inline MainConf* main_conf(ngx_http_request_t* r) noexcept {
    return static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_pushsync_module));
}

inline LocConf* loc_conf(ngx_http_request_t* r) noexcept {
    return static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_pushsync_module));
}

}  // namespace pushsync::ngx
