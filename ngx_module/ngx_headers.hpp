// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// nginx's C headers, for the module's C++ files. They are C: include them with C linkage.
extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_thread_pool.h>
}
