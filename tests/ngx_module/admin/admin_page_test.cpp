// SPDX-License-Identifier: BSD-2-Clause
// The admin page without nginx: escaping, URLs, request checks, and pages rendered from a real
// LMDB store (paging, prefixes, the one-transaction snapshot).
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "ngx_module/admin/html.hpp"
#include "ngx_module/admin/pages.hpp"
#include "ngx_module/admin/request.hpp"
#include "ngx_module/admin/view.hpp"
#include "shared/store/store.hpp"
#include "shared/store/snapshot.hpp"
#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::admin {
namespace {

using test::registration;
using test::token_of;

const PageFrame frame{"/admin/", "9.9", 1'780'000'000'000};

TEST(AdminHtml, EscapesEveryMarkupCharacter) {
    EXPECT_EQ(html_escape(R"(<img src=x onerror=alert(1)> & "q" 'a')"),
              "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot; &#39;a&#39;");
    Html h;
    h.element("td", "<b>", {{"title", "\"><script>"}});
    EXPECT_EQ(h.str(), "<td title=\"&quot;&gt;&lt;script&gt;\">&lt;b&gt;</td>");
}

TEST(AdminHtml, UrlsEncodeValuesAndDecodeBack) {
    EXPECT_EQ(page_url("/a/", "group", {{"id", "g 1&x=<"}, {"after", ""}}), "/a/group?id=g%201%26x%3D%3C");
    EXPECT_EQ(url_decode("g%201%26x%3d%3C+y"), "g 1&x=< y");
    EXPECT_EQ(url_decode("%4"), std::nullopt);
    EXPECT_EQ(url_decode("%zz"), std::nullopt);
    EXPECT_EQ(url_decode("%"), std::nullopt);
}

template <typename T>
T request_of(std::string_view path, std::string_view query) {
    auto parsed = parse_admin_request(path, query);
    EXPECT_TRUE(std::holds_alternative<AdminRequest>(parsed)) << std::get<AdminProblem>(parsed).message;
    return std::get<T>(std::get<AdminRequest>(parsed));
}

AdminProblem problem_of(std::string_view path, std::string_view query) {
    auto parsed = parse_admin_request(path, query);
    EXPECT_TRUE(std::holds_alternative<AdminProblem>(parsed)) << path << "?" << query;
    return std::holds_alternative<AdminProblem>(parsed) ? std::get<AdminProblem>(parsed) : AdminProblem{};
}

TEST(AdminRequest, RoutesAndChecksParameters) {
    (void)request_of<OverviewRequest>("", "");
    (void)request_of<OverviewRequest>("/", "");
    (void)request_of<StylesheetRequest>("style.css", "");
    EXPECT_EQ(request_of<GroupSearchRequest>("groups", "prefix=team-&after=team-a").prefix, "team-");
    EXPECT_EQ(request_of<GroupRequest>("group", "id=g.1").group, "g.1");
    EXPECT_EQ(request_of<DeviceSearchRequest>("devices", "token=ABcd").token_prefix, "abcd");
    EXPECT_EQ(request_of<DeviceSearchRequest>("devices", "").token_prefix, "");

    EXPECT_EQ(problem_of("nope", "").status, 404);
    EXPECT_EQ(problem_of("groups", "prefix=%3Cscript%3E").status, 400);
    EXPECT_EQ(problem_of("groups", "prefix=a&prefix=b").status, 400);
    EXPECT_EQ(problem_of("groups", "limit=5").status, 400);
    EXPECT_EQ(problem_of("group", "").status, 400);
    EXPECT_EQ(problem_of("group", "id=g&after=xyz").status, 400);
    // A prefix of any platform's token: hex (APNs) lowercased, FCM's alphabet as given.
    EXPECT_EQ(request_of<DeviceSearchRequest>("devices", "token=cD3f%3AAPA").token_prefix, "cD3f:APA");
    EXPECT_EQ(request_of<DeviceSearchRequest>("devices", "token=" + std::string(201, 'a')).token_prefix,
              std::string(201, 'a'));
    EXPECT_EQ(problem_of("devices", "token=12.4").status, 400);
    EXPECT_EQ(problem_of("devices", "token=12%2F4").status, 400);
    EXPECT_EQ(problem_of("devices", "token=" + std::string(1025, 'a')).status, 400);
    EXPECT_EQ(problem_of("", "x=%zz").status, 400);
}

TEST(AdminPages, ProblemPageShowsTheRequestsBytesAsText) {
    const AdminProblem p = problem_of("groups", "bad%3Cimg%3E=1");
    const std::string page = render_problem(frame, p.status, p.message);
    EXPECT_EQ(page.find("<img"), std::string::npos);
    EXPECT_NE(page.find("&lt;img&gt;"), std::string::npos);
}

class AdminStore : public ::testing::Test {
protected:
    test::TempDir dir;
    Store store{test::store_options(dir / "store")};
};

TEST_F(AdminStore, GroupDevicesArePagedInTokenOrderAndEscaped) {
    for (int i = 0; i < 120; ++i) {
        store.register_device(registration(token_of(i), "team", "com.example.app", Environment::production,
                                           i == 7 ? "<img src=x onerror=alert(1)>" : "1.0"),
                              1'700'000'000'000);
    }
    store.register_device(registration(token_of(500), "other"), 1'700'000'000'000);

    const AdminAnswer first = answer_admin("group", "id=team", frame, &store, nullptr);
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.content_type, html_type);
    EXPECT_NE(first.body.find("120 devices"), std::string::npos);
    EXPECT_NE(first.body.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
    EXPECT_EQ(first.body.find("<img"), std::string::npos);
    EXPECT_NE(first.body.find(token_of(49)), std::string::npos);
    EXPECT_EQ(first.body.find(token_of(50)), std::string::npos);
    EXPECT_NE(first.body.find("/admin/group?id=team&amp;after=" + token_of(49)), std::string::npos);

    StoreSnapshot snapshot(store);
    auto third = snapshot.group_devices("team", token_of(99), page_size);
    ASSERT_EQ(third.items.size(), 20u);
    EXPECT_EQ(third.items.front().token, token_of(100));
    EXPECT_EQ(third.next_after, std::nullopt);
    EXPECT_EQ(snapshot.group_size("team"), 120u);
    EXPECT_EQ(snapshot.group_size("nobody"), 0u);
    EXPECT_TRUE(snapshot.group_devices("nobody", "", page_size).items.empty());
}

TEST_F(AdminStore, GroupSearchByPrefixIsPaged) {
    for (int i = 0; i < 60; ++i) store.register_device(registration(token_of(i), "team-" + std::to_string(100 + i)), 1);
    store.register_device(registration(token_of(900), "tea"), 1);
    store.register_device(registration(token_of(901), "zoo"), 1);

    StoreSnapshot snapshot(store);
    auto page = snapshot.groups("team-", "", page_size);
    ASSERT_EQ(page.items.size(), page_size);
    EXPECT_EQ(page.items.front().group, "team-100");
    ASSERT_TRUE(page.next_after);
    auto rest = snapshot.groups("team-", *page.next_after, page_size);
    ASSERT_EQ(rest.items.size(), 10u);
    EXPECT_EQ(rest.items.back().group, "team-159");
    EXPECT_EQ(rest.next_after, std::nullopt);
    // An `after` outside the prefix's range starts at the range.
    EXPECT_EQ(snapshot.groups("team-", "a", page_size).items.front().group, "team-100");
    EXPECT_EQ(snapshot.groups("", "", 100).items.size(), 62u);
    EXPECT_TRUE(snapshot.groups("x", "", page_size).items.empty());

    const AdminAnswer answer = answer_admin("groups", "prefix=team-", frame, &store, nullptr);
    EXPECT_NE(answer.body.find("team-149"), std::string::npos);
    EXPECT_EQ(answer.body.find("team-150"), std::string::npos);
    EXPECT_EQ(answer.body.find(">zoo<"), std::string::npos);
    EXPECT_NE(answer.body.find("Next page"), std::string::npos);
}

TEST_F(AdminStore, DeviceLookupByTokenOrPrefix) {
    store.register_device(registration(token_of(1), "g1"), 1);
    store.register_device(registration(token_of(2), "g2"), 1);
    store.register_device(registration(std::string(64, 'b'), "g3"), 1);

    StoreSnapshot snapshot(store);
    EXPECT_EQ(snapshot.devices_by_token(std::string(48, 'a'), "", page_size).items.size(), 2u);
    EXPECT_EQ(snapshot.devices_by_token("b", "", page_size).items.size(), 1u);

    const AdminAnswer exact = answer_admin("devices", "token=" + token_of(2), frame, &store, nullptr);
    EXPECT_NE(exact.body.find("<dd class=\"token-full\">" + token_of(2) + "</dd>"), std::string::npos);
    const AdminAnswer prefix = answer_admin("devices", "token=AAAA", frame, &store, nullptr);
    EXPECT_NE(prefix.body.find("/admin/group?id=g1"), std::string::npos);
    EXPECT_NE(prefix.body.find("/admin/group?id=g2"), std::string::npos);
    EXPECT_EQ(prefix.body.find("/admin/group?id=g3"), std::string::npos);
}

TEST_F(AdminStore, OverviewShowsTheStoresTotalsAndSaysWhatIsUnavailable) {
    store.register_device(registration(token_of(1), "g1"), 1);
    store.register_device(registration(token_of(2), "g1"), 1);
    const AdminAnswer answer = answer_admin("", "", frame, &store, nullptr);
    EXPECT_EQ(answer.status, 200);
    EXPECT_NE(answer.body.find("<dt>Devices</dt><dd>2</dd>"), std::string::npos) << answer.body;
    EXPECT_NE(answer.body.find("<dt>Groups</dt><dd>1</dd>"), std::string::npos);
    EXPECT_NE(answer.body.find("the queue file is unavailable"), std::string::npos);
    EXPECT_EQ(answer_admin("groups", "", frame, nullptr, nullptr).status, 503);
}

TEST_F(AdminStore, LastPushesPerAppCountsAndEventsComeFromTheStoresStatistics) {
    store.register_device(registration(token_of(1), "g1"), 1);
    store.register_device(registration(token_of(2), "g1", "com.example.app", Environment::sandbox), 1);
    const std::vector<std::pair<std::string, std::string>> no_tails;
    const std::vector<PushOutcome> outcomes{
        {token_of(1), LastPush{1'700'000'000'000, "T-9", 200, "", "6e1f0a52-0000-4000-8000-000000000001"},
         PushOutcome::Count::sent},
        {token_of(2), LastPush{1'700'000'000'000, "T-9", 400, "BadExpirationDate", "6e1f0a52-0000-4000-8000-000000000002"},
         PushOutcome::Count::failed}};
    std::vector<StoreEvent> events;
    for (int i = 0; i < 60; ++i) {
        events.push_back({0, 1'700'000'000'000 + i, EventKind::failed, "g1", token_of(2).substr(0, 8),
                          "400 BadExpirationDate <" + std::to_string(i) + ">"});
    }
    store.record_delivery(no_tails, outcomes, events);

    const AdminAnswer group = answer_admin("group", "id=g1", frame, &store, nullptr);
    EXPECT_NE(group.body.find("<td data-label=\"APNs\" class=\"ok\">200</td>"), std::string::npos) << group.body;
    EXPECT_NE(group.body.find("<td data-label=\"APNs\" class=\"bad\">400 BadExpirationDate</td>"), std::string::npos);
    EXPECT_NE(group.body.find("title=\"6e1f0a52-0000-4000-8000-000000000002\""), std::string::npos);
    EXPECT_NE(group.body.find("<td data-label=\"Tail\" class=\"id\">T-9</td>"), std::string::npos);

    const AdminAnswer device = answer_admin("devices", "token=" + token_of(2), frame, &store, nullptr);
    EXPECT_NE(device.body.find("<dd class=\"token-full\">6e1f0a52-0000-4000-8000-000000000002</dd>"), std::string::npos);
    EXPECT_NE(device.body.find("<dt>Pushes failed</dt><dd>1</dd>"), std::string::npos);

    const AdminAnswer overview = answer_admin("", "", frame, &store, nullptr);
    EXPECT_NE(overview.body.find("<td>com.example.app</td><td>apns</td><td>production</td><td class=\"num\">1</td>"), std::string::npos);
    EXPECT_NE(overview.body.find("<td>com.example.app</td><td>apns</td><td>sandbox</td><td class=\"num\">1</td>"), std::string::npos);

    // Newest first, 50 a page, the next page below the last seq shown; reasons escaped.
    const AdminAnswer first = answer_admin("events", "", frame, &store, nullptr);
    EXPECT_NE(first.body.find("400 BadExpirationDate &lt;59&gt;"), std::string::npos);
    EXPECT_EQ(first.body.find("400 BadExpirationDate &lt;9&gt;"), std::string::npos);
    StoreSnapshot snapshot(store);
    const auto page = snapshot.events(0, page_size);
    ASSERT_TRUE(page.next_after);
    const AdminAnswer second = answer_admin("events", "before=" + *page.next_after, frame, &store, nullptr);
    EXPECT_NE(second.body.find("&lt;9&gt;"), std::string::npos);
    EXPECT_NE(second.body.find("&lt;0&gt;"), std::string::npos);
    EXPECT_EQ(second.body.find("&lt;10&gt;"), std::string::npos);
    EXPECT_EQ(answer_admin("events", "before=x", frame, &store, nullptr).status, 400);
}

TEST(AdminPages, StylesheetIsServedAsCss) {
    const AdminAnswer css = answer_admin("style.css", "", frame, nullptr, nullptr);
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.content_type, css_type);
    EXPECT_NE(css.body.find("@media"), std::string::npos);
}

}  // namespace
}  // namespace pushsync::admin
