// SPDX-License-Identifier: BSD-2-Clause
// The admin page in a real browser over a real stack: nginx with the module (pushsync_admin),
// pushsync-sender and apns-sim, with devices that were delivered to, failed and pruned. Debian's
// chromium loads every page; the DOM must hold the figures the store, the queue header and the
// simulator's request log say, the script probe in app_version stays text, and chromium's network
// log shows no request to any other origin than the page's.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "shared/store/store.hpp"
#include "shared/store/snapshot.hpp"
#include "ngx_module/admin/request.hpp"
#include "tests/ngx_module/admin/chromium.hpp"
#include "tests/system/delivery/e2e.hpp"

namespace pushsync::admin {
namespace {

using sender::e2e::Stack;

// Tokens that differ from their first digit (as real ones do), two sharing a prefix "3f9a".
std::string token(int i) {
    static const char* const heads[] = {"3f9a01c2", "3f9a7c55", "b71e0d94", "5c20aa81", "e4d3f712", "0a6b9e3d", "9d41c07f"};
    std::string t = heads[i - 1];
    for (int k = 0; t.size() < 64; ++k) t += "0123456789abcdef"[(i * 7 + k * 13) % 16];
    return t;
}
using namespace pushsync::test;

const std::string probe = "<img src=x onerror=alert(1)>";

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

class AdminBrowser : public ::testing::Test {
protected:
    static Stack::Options options() {
        Stack::Options o;
        o.nginx_server_extra = "location /admin/ { pushsync_admin; }\n";
        return o;
    }

    void SetUp() override {
        ASSERT_TRUE(Chromium::available()) << "/usr/bin/chromium is missing: run scripts/deps";
    }

    std::string url(const std::string& path) const { return stack.nginx.url("/admin/" + path); }

    // Loads a page and checks what every page must hold: a complete document, no request to
    // another origin, the stylesheet fetched from the page's own origin.
    Chromium::Load load(const std::string& path) {
        Chromium::Load page = browser.load(url(path));
        EXPECT_EQ(page.exit_code, 0) << page.err;
        EXPECT_NE(page.dom.find("</footer>"), std::string::npos) << path << "\n" << page.dom << page.err;
        const std::string origin = "http://127.0.0.1:" + std::to_string(stack.nginx.http_port()) + "/";
        bool stylesheet = false;
        std::size_t own = 0;
        for (const auto& request : page.requests) {
            // The page's requests carry its site as their network isolation key (the navigation)
            // or its origin as their initiator (everything the document asks for).
            const bool from_page = request.network_isolation_key.find("http://127.0.0.1") != std::string::npos ||
                                   request.initiator != "not an origin";
            if (!from_page) {
                ++own;  // chromium's own: component updater, time, accounts
                continue;
            }
            EXPECT_EQ(request.url.rfind(origin, 0), 0u) << path << " made a request to another origin: " << request.url
                                                        << " (initiator " << request.initiator << ")";
            stylesheet = stylesheet || request.url == origin + "admin/style.css";
        }
        EXPECT_GT(page.requests.size(), own) << "no request of the page in the network log for " << path;
        EXPECT_TRUE(stylesheet) << path << ": the stylesheet was not fetched";
        // Nor does the document name another origin anywhere (all its links are paths).
        EXPECT_EQ(count(page.dom, "://"), 0u) << page.dom;
        return page;
    }

    Stack stack{options()};
    Chromium browser;
};

TEST_F(AdminBrowser, EveryPageShowsTheStoresAndTheSimulatorsFigures) {
    const std::string delivered = token(1), versioned = token(2), gone = token(3), bad = token(4), failing = token(5);
    for (const auto& t : {delivered, gone, bad, failing}) stack.register_device("team-alpha", t);
    const auto r = stack.nginx.request("PUT", "/v1/groups/team-alpha/devices/" + versioned,
                                       R"({"bundle_id":"com.example.app","app_version":")" + probe + "\"}");
    ASSERT_EQ(r.status, 201) << r.body;
    stack.register_device("team-beta", token(6));
    stack.register_device("zeta", token(7));

    stack.sim.mark_unregistered(gone, now_unix_ms() + 60000);  // after its registration
    stack.sim.mark_bad(bad);
    stack.sim.add_fault({{"kind", "status"}, {"status", 400}, {"reason", "BadExpirationDate"}, {"token", failing}, {"count", 1}});
    stack.notify("team-alpha", "T-000001", delivered);
    ASSERT_TRUE(stack.wait_outbox_empty());

    // What the simulator answered, per token (the origin gets no push).
    ASSERT_EQ(stack.delivered_to(versioned), 1u);
    ASSERT_EQ(stack.requests_for(gone).at(0)["status"], 410);
    ASSERT_EQ(stack.requests_for(bad).at(0)["status"], 400);
    ASSERT_EQ(stack.requests_for(failing).at(0)["status"], 400);
    ASSERT_TRUE(stack.requests_for(delivered).empty());
    std::size_t sent = 0, failed = 0;
    for (const auto& e : stack.requests()) (e.value("status", 0) == 200 ? sent : failed) += 1;
    ASSERT_EQ(sent, 1u);
    ASSERT_EQ(failed, 3u);

    // What the store says now: the 410 and the BadDeviceToken are pruned.
    StoreOptions store_options;
    store_options.path = stack.nginx.store_path().string();
    store_options.read_only = true;
    const Store store(store_options);
    const StoreSnapshot snapshot(store);
    const StoreTotals totals = snapshot.totals();
    ASSERT_EQ(totals.devices, 5u);
    ASSERT_EQ(totals.groups, 3u);
    ASSERT_EQ(snapshot.group_size("team-alpha"), 3u);

    {
        const auto page = load("");
        EXPECT_NE(page.dom.find("<dt>Devices</dt><dd>" + std::to_string(totals.devices) + "</dd>"), std::string::npos) << page.dom;
        EXPECT_NE(page.dom.find("<dt>Groups</dt><dd>" + std::to_string(totals.groups) + "</dd>"), std::string::npos);
        EXPECT_NE(page.dom.find("<p class=\"badge ok\">running</p>"), std::string::npos);
        const auto figure = [&](const std::string& label, std::uint64_t n) {
            return "<th scope=\"row\">" + label + "</th><td class=\"num\">" + std::to_string(n) + "</td>";
        };
        EXPECT_NE(page.dom.find(figure("Pushes sent", sent)), std::string::npos) << page.dom;
        EXPECT_NE(page.dom.find(figure("Pushes failed", stack.counter(Counter::pushes_failed))), std::string::npos);
        EXPECT_EQ(stack.counter(Counter::pushes_failed), 1u);  // the 400 BadExpirationDate
        EXPECT_NE(page.dom.find(figure("Tokens pruned", 2)), std::string::npos);
        EXPECT_NE(page.dom.find(figure("Registrations", 7)), std::string::npos);
        EXPECT_NE(page.dom.find(figure("Notifies accepted", 1)), std::string::npos);
        // Devices per app, platform and environment, as the store counts them.
        const auto apps = snapshot.device_counts();
        ASSERT_EQ(apps.size(), 1u);
        EXPECT_EQ(apps[0].devices, totals.devices);
        EXPECT_NE(page.dom.find("<td>com.example.app</td><td>apns</td><td>production</td><td class=\"num\">" +
                                std::to_string(apps[0].devices) + "</td>"),
                  std::string::npos);
    }
    {
        const auto page = load("groups?prefix=team-");
        EXPECT_NE(page.dom.find(">team-alpha</a></td><td data-label=\"Devices\" class=\"num\">3</td>"), std::string::npos) << page.dom;
        EXPECT_NE(page.dom.find(">team-beta</a></td><td data-label=\"Devices\" class=\"num\">1</td>"), std::string::npos);
        EXPECT_EQ(page.dom.find(">zeta<"), std::string::npos);
    }
    {
        const auto page = load("group?id=team-alpha");
        EXPECT_NE(page.dom.find("3 devices"), std::string::npos) << page.dom;
        for (const auto& t : {delivered, versioned, failing}) EXPECT_NE(page.dom.find("title=\"" + t + "\""), std::string::npos) << t;
        for (const auto& t : {gone, bad}) EXPECT_EQ(page.dom.find(t), std::string::npos) << t;
        // Each device's last push as the store keeps it, and as the simulator answered it.
        for (const auto& t : {versioned, failing}) {
            const DeviceStats st = snapshot.device_stats(t);
            ASSERT_TRUE(st.last_push) << t;
            const nlohmann::json answered = stack.requests_for(t).back();
            EXPECT_EQ(st.last_push->status, answered["status"].get<int>()) << t;
            const std::string apns = st.last_push->reason.empty()
                                         ? std::to_string(st.last_push->status)
                                         : std::to_string(st.last_push->status) + " " + st.last_push->reason;
            EXPECT_NE(page.dom.find("<td data-label=\"APNs\" class=\"" + std::string(st.last_push->status == 200 ? "ok" : "bad") +
                                    "\">" + apns + "</td>"),
                      std::string::npos) << t << page.dom;
            EXPECT_NE(page.dom.find("title=\"" + st.last_push->apns_id + "\""), std::string::npos) << t;
        }
        // The probe is text in a cell, never an element.
        EXPECT_NE(page.dom.find("<td data-label=\"Version\">&lt;img src=x onerror=alert(1)&gt;</td>"), std::string::npos);
        EXPECT_EQ(count(page.dom, "<img"), 0u);
    }
    {
        const auto page = load("devices?token=" + versioned);
        EXPECT_NE(page.dom.find("<dd class=\"token-full\">" + versioned + "</dd>"), std::string::npos) << page.dom;
        EXPECT_NE(page.dom.find(">team-alpha</a></dd>"), std::string::npos);
        EXPECT_NE(page.dom.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
        EXPECT_EQ(count(page.dom, "<img"), 0u);
    }
    {
        // Two tokens start with 3f9a: the prefix finds both, with their groups.
        const auto page = load("devices?token=3F9A");
        EXPECT_EQ(count(page.dom, "<td data-label=\"Token\" class=\"token\">"), 2u) << page.dom;
        for (const auto& t : {delivered, versioned}) EXPECT_NE(page.dom.find("title=\"" + t + "\""), std::string::npos) << t;
    }
    {
        const auto page = load("devices?token=" + gone);
        EXPECT_NE(page.dom.find("No device token starts with"), std::string::npos) << page.dom;
    }
    {
        // The store's recent events, newest first, each with its reason.
        const auto page = load("events");
        const auto events = snapshot.events(0, page_size);
        // One per answer that was not a 200: the 410 and the BadDeviceToken pruned, the 400 failed.
        EXPECT_EQ(events.items.size(), failed);
        EXPECT_EQ(count(page.dom, "<td data-label=\"Reason\">"), events.items.size()) << page.dom;
        for (const auto& e : events.items) EXPECT_NE(page.dom.find(e.reason), std::string::npos) << e.reason;
    }
    {
        const auto page = load("groups?prefix=%3Cscript%3E");
        EXPECT_NE(page.dom.find("<h1>400 Bad request</h1>"), std::string::npos) << page.dom;
    }

    // Screenshots for docs/ (PUSHSYNC_ADMIN_SCREENSHOTS=DIR keeps them); also proves both widths render.
    const char* keep = std::getenv("PUSHSYNC_ADMIN_SCREENSHOTS");
    const std::filesystem::path dir = keep ? std::filesystem::path(keep) : stack.nginx.prefix();
    for (const auto& [name, path] : {std::pair{"overview", ""}, std::pair{"group", "group?id=team-alpha"}}) {
        for (const auto& [width_name, width, height] : {std::tuple{"laptop", 1280, 800}, std::tuple{"phone", 390, 844}}) {
            const auto png = dir / ("admin-" + std::string(name) + "-" + width_name + ".png");
            EXPECT_EQ(browser.screenshot(url(path), png, width, height), 0) << png;
            EXPECT_GT(std::filesystem::exists(png) ? std::filesystem::file_size(png) : 0, 1000u) << png;
        }
    }
}

// The answers outside a browser: methods, headers, HEAD.
TEST_F(AdminBrowser, ReadOnlyWithTheSecurityHeaders) {
    const auto get = stack.nginx.request("GET", "/admin/");
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(get.header("content-security-policy").rfind("default-src 'none'; style-src 'self'", 0), 0u);
    EXPECT_EQ(get.header("x-frame-options"), "DENY");
    EXPECT_EQ(get.header("cache-control"), "no-store");
    EXPECT_EQ(get.header("x-content-type-options"), "nosniff");

    const auto css = stack.nginx.request("GET", "/admin/style.css");
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");

    // curl -X HEAD would wait for the body that Content-Length announces; -I does not.
    const auto head = run({"curl", "-sS", "-I", "--max-time", "20", stack.nginx.url("/admin/groups")});
    EXPECT_EQ(head.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head.out << head.err;
    EXPECT_NE(head.out.find("Cache-Control: no-store"), std::string::npos) << head.out;

    for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
        const auto r = stack.nginx.request(method, "/admin/groups", "{}");
        EXPECT_EQ(r.status, 405) << method;
        EXPECT_EQ(r.header("allow"), "GET, HEAD") << method;
    }
    EXPECT_EQ(stack.nginx.request("GET", "/admin/nothing-here").status, 404);
    EXPECT_EQ(stack.nginx.request("GET", "/admin/group?id=").status, 400);
    EXPECT_EQ(stack.nginx.request("GET", "/admin/devices?token=%zz").status, 400);
}

}  // namespace
}  // namespace pushsync::admin
