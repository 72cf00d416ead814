// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Debian's chromium, headless, as a test's browser: the DOM after the page loaded (--dump-dom),
// a screenshot, and the network log of everything the browser fetched (--log-net-log).
// Host names resolve to nothing but 127.0.0.1, so chromium's own background requests (component
// updates, time, accounts) never leave the machine; they still show in the network log, told
// apart from the page's by their initiator and network isolation key.
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace pushsync::test {

class Chromium {
public:
    Chromium();  // a fresh profile in a temp dir

    static bool available();

    // One URL request of the network log (a URL_REQUEST_START_JOB event).
    struct Request {
        std::string url;
        std::string initiator;              // the origin that asked; "not an origin": the browser itself
        std::string network_isolation_key;  // the top frame's site for a page's requests
    };
    struct Load {
        int exit_code = -1;
        std::string dom;  // the serialised DOM after load
        std::string err;  // chromium's stderr
        std::vector<Request> requests;
    };
    // Loads `url` and returns the DOM and every request chromium's network stack started.
    Load load(const std::string& url);
    // A PNG of the page at width x height CSS pixels. Returns chromium's exit code.
    int screenshot(const std::string& url, const std::filesystem::path& png, int width, int height);

private:
    std::vector<std::string> base_args() const;
    TempDir dir_;
    int runs_ = 0;
};

}  // namespace pushsync::test
