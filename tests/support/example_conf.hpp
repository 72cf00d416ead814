// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The nginx.conf examples hosters copy (conf/nginx.conf, conf/nginx-front.conf), made to run in a
// test's NginxFixture: only paths, ports and the user are swapped for the test's own, so a test
// that passes shows the example works as shipped.
#include <string>
#include <utility>
#include <vector>

#include "tests/support/nginx_fixture.hpp"

namespace pushsync::test {

// Writes `example` (a path under the source tree) as `nginx`'s nginx.conf: the module built here,
// the fixture's ports (TLS, plain HTTP/1.1 and h2c beside the example's `listen 443`), certificate,
// pid file, logs and temp paths, then `swaps` for the example's own paths; `extra_http` is added
// at the top of its http block. Throws std::runtime_error naming a text the example no longer
// contains.
void write_example_nginx_conf(const NginxFixture& nginx, const std::string& example,
                              const std::vector<std::pair<std::string, std::string>>& swaps,
                              const std::string& extra_http = "");

}  // namespace pushsync::test
