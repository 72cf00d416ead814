// SPDX-License-Identifier: BSD-2-Clause
// The nginx module object: directives, configuration, worker start and stop, $pushsync_group,
// $pushsync_group_moves and $pushsync_log_uri.
// Every function nginx calls — the directive setters, variables and phase hooks here, and the
// handlers, timers and cleanups of handler.cpp, admin_handler.cpp, front/, writes/, response.cpp and
// worker_state.cpp — is noexcept, and one whose body can throw runs it through guard(): no
// exception reaches C frames.
#include <string>

#include "ngx_module/admin_handler.hpp"
#include "ngx_module/front/front.hpp"
#include "ngx_module/guard.hpp"
#include "ngx_module/handler.hpp"
#include "ngx_module/module_conf.hpp"
#include "ngx_module/ngx_headers.hpp"
#include "ngx_module/worker_state.hpp"

namespace pushsync::ngx {
namespace {

char* set_config(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_api(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_status(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_metrics(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_admin(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_front(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
ngx_int_t preconfiguration(ngx_conf_t* cf) noexcept;
ngx_int_t postconfiguration(ngx_conf_t* cf) noexcept;
void* create_main_conf(ngx_conf_t* cf) noexcept;
char* init_main_conf(ngx_conf_t* cf, void* conf) noexcept;
void* create_srv_conf(ngx_conf_t* cf) noexcept;
void* create_loc_conf(ngx_conf_t* cf) noexcept;
char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;
ngx_int_t init_process(ngx_cycle_t* cycle) noexcept;
void exit_process(ngx_cycle_t* cycle) noexcept;

ngx_command_t commands[] = {

    {ngx_string("pushsync_config"),
     NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     set_config,
     NGX_HTTP_MAIN_CONF_OFFSET,
     0,
     nullptr},

    {ngx_string("pushsync_thread_pool"),
     NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot,
     NGX_HTTP_MAIN_CONF_OFFSET,
     offsetof(MainConf, thread_pool_name),
     nullptr},

    {ngx_string("pushsync_api"),
     NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
     set_api,
     NGX_HTTP_LOC_CONF_OFFSET,
     0,
     nullptr},

    {ngx_string("pushsync_status"),
     NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
     set_status,
     NGX_HTTP_LOC_CONF_OFFSET,
     0,
     nullptr},

    {ngx_string("pushsync_metrics"),
     NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
     set_metrics,
     NGX_HTTP_LOC_CONF_OFFSET,
     0,
     nullptr},

    {ngx_string("pushsync_admin"),
     NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
     set_admin,
     NGX_HTTP_LOC_CONF_OFFSET,
     0,
     nullptr},

    {ngx_string("pushsync_front"),
     NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
     set_front,
     NGX_HTTP_LOC_CONF_OFFSET,
     0,
     nullptr},

    {ngx_string("pushsync_front_rings"),
     NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE2,
     set_front_rings,
     NGX_HTTP_MAIN_CONF_OFFSET,
     0,
     nullptr},

    {ngx_string("pushsync_push"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_http_set_complex_value_slot,
     NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, push),
     nullptr},

    {ngx_string("pushsync_require_origin"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot,
     NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, require_origin),
     nullptr},

    {ngx_string("pushsync_list_tokens"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot,
     NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, list_tokens),
     nullptr},

    ngx_null_command,
};

ngx_http_module_t module_ctx = {
    preconfiguration,   // preconfiguration
    postconfiguration,  // postconfiguration

    create_main_conf,  // create main configuration
    init_main_conf,    // init main configuration

    create_srv_conf,  // create server configuration
    nullptr,          // merge server configuration (set only from the server's own locations)

    create_loc_conf,  // create location configuration
    merge_loc_conf,   // merge location configuration
};

ngx_str_t group_variable_name = ngx_string("pushsync_group");
ngx_str_t group_moves_variable_name = ngx_string("pushsync_group_moves");
ngx_str_t log_uri_variable_name = ngx_string("pushsync_log_uri");

char* conf_error(ngx_conf_t* cf, const char* what) noexcept {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", what);
    return static_cast<char*>(NGX_CONF_ERROR);
}

// pushsync_config FILE; — loaded now, so a broken file fails `nginx -t` with its one-line message.
char* set_config(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<MainConf*>(conf);
    if (mcf->config_file.data != nullptr) return const_cast<char*>("is duplicate");
    ngx_str_t file = static_cast<ngx_str_t*>(cf->args->elts)[1];
    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) return static_cast<char*>(NGX_CONF_ERROR);
    mcf->config_file = file;
    return guard(
        [&] {
            mcf->config = pool_emplace<Config>(cf->pool, load_config(std::string(view(file))));
            return mcf->config == nullptr ? static_cast<char*>(NGX_CONF_ERROR) : NGX_CONF_OK;
        },
        [cf](const Failure& f) noexcept { return conf_error(cf, f.what); });
}

char* set_location(ngx_conf_t* cf, void* conf, LocationKind kind, ngx_http_handler_pt handler) noexcept {
    auto* lcf = static_cast<LocConf*>(conf);
    if (lcf->kind != kind_none) return const_cast<char*>("is duplicate or conflicts with another pushsync_ directive");
    lcf->kind = kind;
    core_loc_conf(cf)->handler = handler;
    main_conf(cf)->used = 1;
    srv_conf(cf)->serves_pushsync = 1;
    return NGX_CONF_OK;
}

char* set_api(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    return set_location(cf, conf, kind_api, api_handler);
}
char* set_status(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    return set_location(cf, conf, kind_status, status_handler);
}
char* set_metrics(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    return set_location(cf, conf, kind_metrics, metrics_handler);
}
char* set_admin(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    return set_location(cf, conf, kind_admin, admin_handler);
}

// pushsync_front; — needs no pushsync_config: a front nginx has no store, queue or yaml.
char* set_front(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<LocConf*>(conf);
    if (lcf->kind != kind_none) return const_cast<char*>("is duplicate or conflicts with another pushsync_ directive");
    lcf->kind = kind_front;
    srv_conf(cf)->serves_pushsync = 1;
    return NGX_CONF_OK;
}

ngx_int_t preconfiguration(ngx_conf_t* cf) noexcept {
    ngx_http_variable_t* var = ngx_http_add_variable(cf, &group_variable_name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == nullptr) return NGX_ERROR;
    var->get_handler = group_variable;
    var = ngx_http_add_variable(cf, &group_moves_variable_name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == nullptr) return NGX_ERROR;
    var->get_handler = group_moves_variable;
    var = ngx_http_add_variable(cf, &log_uri_variable_name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == nullptr) return NGX_ERROR;
    var->get_handler = log_uri_variable;
    return NGX_OK;
}

ngx_int_t postconfiguration(ngx_conf_t* cf) noexcept {
    auto* cmcf = static_cast<ngx_http_core_main_conf_t*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
    auto* h = static_cast<ngx_http_handler_pt*>(ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers));
    if (h == nullptr) return NGX_ERROR;
    *h = hide_tokens_in_request_line;
    return NGX_OK;
}

void* create_main_conf(ngx_conf_t* cf) noexcept {
    return ngx_pcalloc(cf->pool, sizeof(MainConf));
}

char* init_main_conf(ngx_conf_t* cf, void* conf) noexcept {
    auto* mcf = static_cast<MainConf*>(conf);
    if (!mcf->used) return NGX_CONF_OK;
    if (mcf->config == nullptr) {
        return conf_error(cf, "pushsync_api, pushsync_status, pushsync_metrics and pushsync_admin need \"pushsync_config FILE;\" in http{}");
    }
    // The thread pool must exist before workers start: registered now, created by nginx.
    mcf->thread_pool = ngx_thread_pool_add(cf, mcf->thread_pool_name.len ? &mcf->thread_pool_name : nullptr);
    if (mcf->thread_pool == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
    return NGX_CONF_OK;
}

void* create_srv_conf(ngx_conf_t* cf) noexcept {
    return ngx_pcalloc(cf->pool, sizeof(SrvConf));
}

void* create_loc_conf(ngx_conf_t* cf) noexcept {
    auto* lcf = static_cast<LocConf*>(ngx_pcalloc(cf->pool, sizeof(LocConf)));
    if (lcf == nullptr) return nullptr;
    lcf->kind = kind_none;
    lcf->push = static_cast<ngx_http_complex_value_t*>(NGX_CONF_UNSET_PTR);
    lcf->require_origin = NGX_CONF_UNSET;
    lcf->list_tokens = NGX_CONF_UNSET;
    return lcf;
}

char* merge_loc_conf(ngx_conf_t*, void* parent, void* child) noexcept {
    auto* prev = static_cast<LocConf*>(parent);
    auto* conf = static_cast<LocConf*>(child);
    ngx_conf_merge_ptr_value(conf->push, prev->push, nullptr);
    ngx_conf_merge_value(conf->require_origin, prev->require_origin, 0);
    ngx_conf_merge_value(conf->list_tokens, prev->list_tokens, 0);
    return NGX_CONF_OK;
}

ngx_int_t init_process(ngx_cycle_t* cycle) noexcept {
    MainConf* mcf = main_conf(cycle);
    if (mcf == nullptr || !mcf->used || mcf->config == nullptr) return NGX_OK;
    return guard(
        [&] {
            mcf->worker = pool_emplace<WorkerState>(cycle->pool, *mcf->config, mcf->thread_pool, cycle);
            if (mcf->worker == nullptr) return static_cast<ngx_int_t>(NGX_ERROR);
            ngx_log_error(NGX_LOG_INFO, cycle->log, 0, "pushsync: worker ready, config %s", mcf->config->file.c_str());
            return static_cast<ngx_int_t>(NGX_OK);
        },
        [cycle](const Failure& f) noexcept {
            log_failure(cycle->log, NGX_LOG_ALERT, "worker start failed", f);
            return static_cast<ngx_int_t>(NGX_ERROR);
        });
}

void exit_process(ngx_cycle_t* cycle) noexcept {
    MainConf* mcf = main_conf(cycle);
    if (mcf == nullptr || mcf->worker == nullptr) return;
    mcf->worker->close();
}

}  // namespace
}  // namespace pushsync::ngx

extern "C" {
ngx_module_t ngx_http_pushsync_module = {
    NGX_MODULE_V1,
    &pushsync::ngx::module_ctx,   // module context
    pushsync::ngx::commands,      // module directives
    NGX_HTTP_MODULE,              // module type
    nullptr,                      // init master
    nullptr,                      // init module
    pushsync::ngx::init_process,  // init process
    nullptr,                      // init thread
    nullptr,                      // exit thread
    pushsync::ngx::exit_process,  // exit process
    nullptr,                      // exit master
    NGX_MODULE_V1_PADDING,
};
}
