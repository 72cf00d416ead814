// SPDX-License-Identifier: BSD-2-Clause
/* What nginx's build generates for a dynamic module: nginx looks these three up in the .so. */
#include <ngx_config.h>
#include <ngx_core.h>

extern ngx_module_t ngx_http_pushsync_module;

ngx_module_t *ngx_modules[] = {
    &ngx_http_pushsync_module,
    NULL
};

char *ngx_module_names[] = {
    "ngx_http_pushsync_module",
    NULL
};

char *ngx_module_order[] = {
    NULL
};
