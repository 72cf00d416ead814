// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/admin/pages.hpp"

#include <cstdio>
#include <initializer_list>

#include "ngx_module/admin/html.hpp"
#include "ngx_module/api/report.hpp"

namespace pushsync::admin {
namespace {

constexpr std::string_view counter_labels[] = {
    "Registrations", "Unregistrations", "Notifies accepted", "Notifies rejected",
    "Pushes sent",   "Pushes failed",   "Tokens pruned",
};
static_assert(std::size(counter_labels) == static_cast<unsigned>(Counter::count_));

std::string number(std::uint64_t n) {
    // Thin spaces between thousands read well at any width and never wrap.
    std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i != 0 && (digits.size() - i) % 3 == 0) out += "\u2009";
        out += digits[i];
    }
    return out;
}

std::string bytes(std::uint64_t n) {
    char buf[32];
    if (n >= (1ull << 30)) {
        std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(n) / (1ull << 30));
    } else if (n >= (1ull << 20)) {
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1ull << 20));
    } else {
        std::snprintf(buf, sizeof buf, "%.0f KiB", static_cast<double>(n) / 1024);
    }
    return buf;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f %%", whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / whole);
    return buf;
}

std::string age(std::int64_t then_ms, std::int64_t now_ms) {
    if (then_ms == 0) return "never";
    const std::int64_t s = (now_ms - then_ms) / 1000;
    if (s < 0) return "in the future";
    if (s < 120) return std::to_string(s) + " s ago";
    if (s < 7200) return std::to_string(s / 60) + " min ago";
    if (s < 172800) return std::to_string(s / 3600) + " h ago";
    return std::to_string(s / 86400) + " days ago";
}

// "2026-11-26 09:00:00" from RFC 3339: the same instant, easier on the eye.
std::string when(std::int64_t unix_ms) {
    std::string t = format_rfc3339(unix_ms);
    if (t.size() == 20) {
        t[10] = ' ';
        t.pop_back();
    }
    return t;
}

std::string token_head(std::string_view token) {
    return std::string(token.substr(0, 8)) + "\u2026";
}

void head(Html& h, const PageFrame& frame, std::string_view title, std::string_view current) {
    h.doctype().open("html", {{"lang", "en"}}).open("head");
    h.empty("meta", {{"charset", "utf-8"}});
    h.empty("meta", {{"name", "viewport"}, {"content", "width=device-width, initial-scale=1"}});
    h.empty("meta", {{"name", "referrer"}, {"content", "no-referrer"}});
    h.element("title", std::string(title) + " \u00b7 pushsync admin");
    h.empty("link", {{"rel", "stylesheet"}, {"href", page_url(frame.base, "style.css")}});
    h.close("head").open("body");
    h.open("header").open("nav", {{"aria-label", "pages"}});
    h.link(page_url(frame.base, ""), "pushsync", {{"class", "brand"}});
    const std::pair<std::string_view, std::string_view> pages[] = {
        {"", "Overview"}, {"groups", "Groups"}, {"devices", "Devices"}, {"events", "Events"}};
    for (const auto& [path, label] : pages) {
        if (label == current) {
            h.link(page_url(frame.base, path), label, {{"aria-current", "page"}});
        } else {
            h.link(page_url(frame.base, path), label);
        }
    }
    h.close("nav").close("header").open("main");
}

std::string finish(Html& h, const PageFrame& frame) {
    h.close("main").open("footer");
    h.text("pushsync " + frame.version + " \u00b7 read at " + when(frame.now_ms) + " UTC \u00b7 read-only");
    h.close("footer").close("body").close("html");
    return h.take();
}

// A definition list of label/value pairs, shown as a small card.
void card(Html& h, std::string_view title, std::initializer_list<std::pair<std::string_view, std::string>> rows,
          std::string_view status_class = {}) {
    h.open("section", {{"class", "card"}}).element("h2", title);
    if (status_class == "ok") h.element("p", "running", {{"class", "badge ok"}});
    if (status_class == "bad") h.element("p", "not running", {{"class", "badge bad"}});
    h.open("dl");
    for (const auto& [label, value] : rows) h.element("dt", label).element("dd", value);
    h.close("dl").close("section");
}

void next_link(Html& h, const std::optional<std::string>& next, const std::string& next_url, const std::string& first_url,
               bool on_first) {
    if (!next && on_first) return;
    h.open("nav", {{"class", "pager"}, {"aria-label", "pages of results"}});
    if (!on_first) h.link(first_url, "\u2190 First page");
    if (next) h.link(next_url, "Next page \u2192", {{"rel", "next"}});
    h.close("nav");
}

std::string apns_answer(const LastPush& push) {
    return push.reason.empty() ? std::to_string(push.status) : std::to_string(push.status) + " " + push.reason;
}

std::string short_id(std::string_view id) {
    return id.size() > 8 ? std::string(id.substr(0, 8)) + "\u2026" : std::string(id);
}

// The last push's cells; a dash in each when there was none.
void last_push_cells(Html& h, const PageFrame& frame, const DeviceStats& stats) {
    if (!stats.last_push) {
        for (auto label : {"Last push", "Tail", "APNs", "apns-id"}) h.element("td", "\u2014", {{"data-label", label}});
        return;
    }
    const LastPush& p = *stats.last_push;
    h.element("td", age(p.time_ms, frame.now_ms), {{"data-label", "Last push"}, {"title", when(p.time_ms) + " UTC"}});
    h.element("td", p.tail, {{"data-label", "Tail"}, {"class", "id"}});
    h.element("td", apns_answer(p), {{"data-label", "APNs"}, {"class", p.status == 200 ? "ok" : "bad"}});
    h.element("td", p.apns_id.empty() ? "\u2014" : short_id(p.apns_id), {{"data-label", "apns-id"}, {"class", "id"}, {"title", p.apns_id}});
}

// One row per device; on a phone's width each row becomes a card whose cells carry their label
// (data-label, shown by the stylesheet).
void device_table(Html& h, const PageFrame& frame, const std::vector<Device>& devices,
                  const std::vector<DeviceStats>& stats, bool with_group) {
    h.open("div", {{"class", "table"}}).open("table").open("thead").open("tr");
    h.element("th", "Token");
    if (with_group) h.element("th", "Group");
    for (auto label : {"App", "Version", "Last seen", "Last push", "Tail", "APNs", "apns-id"}) h.element("th", label);
    h.element("th", "Sent / failed", {{"class", "num"}});
    h.close("tr").close("thead").open("tbody");
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const Device& d = devices[i];
        const DeviceStats& st = i < stats.size() ? stats[i] : DeviceStats{};
        h.open("tr").open("td", {{"data-label", "Token"}, {"class", "token"}});
        h.link(page_url(frame.base, "devices", {{"token", d.token}}), token_head(d.token), {{"title", d.token}});
        h.close("td");
        if (with_group) {
            h.open("td", {{"data-label", "Group"}});
            h.link(page_url(frame.base, "group", {{"id", d.group}}), d.group);
            h.close("td");
        }
        h.open("td", {{"data-label", "App"}}).text(d.bundle_id);
        // The platform as a tag beside the app, like sandbox: an Android device is easy to spot.
        if (d.platform != Platform::apns) h.element("span", to_string(d.platform), {{"class", "env"}});
        if (d.environment == Environment::sandbox) h.element("span", "sandbox", {{"class", "env"}});
        h.close("td");
        h.element("td", d.app_version.empty() ? "\u2014" : d.app_version, {{"data-label", "Version"}});
        h.element("td", age(d.last_seen_ms, frame.now_ms), {{"data-label", "Last seen"}, {"title", when(d.last_seen_ms) + " UTC"}});
        last_push_cells(h, frame, st);
        h.element("td", number(st.sent) + " / " + number(st.failed), {{"data-label", "Sent / failed"}, {"class", st.failed ? "num bad" : "num"}});
        h.close("tr");
    }
    h.close("tbody").close("table").close("div");
}

void device_detail(Html& h, const PageFrame& frame, const Device& d, const DeviceStats& stats) {
    h.open("section", {{"class", "card wide"}}).element("h2", "Device");
    h.open("dl");
    h.element("dt", "Token").element("dd", d.token, {{"class", "token-full"}});
    h.element("dt", "Group").open("dd").link(page_url(frame.base, "group", {{"id", d.group}}), d.group).close("dd");
    h.element("dt", "App").element("dd", d.bundle_id);
    h.element("dt", "Platform").element("dd", to_string(d.platform));
    h.element("dt", "Environment").element("dd", to_string(d.environment));
    h.element("dt", "App version").element("dd", d.app_version.empty() ? "\u2014" : d.app_version);
    h.element("dt", "Registered").element("dd", when(d.registered_at_ms) + " UTC");
    h.element("dt", "Last seen").element("dd", when(d.last_seen_ms) + " UTC (" + age(d.last_seen_ms, frame.now_ms) + ")");
    h.element("dt", "Pushes sent").element("dd", number(stats.sent));
    h.element("dt", "Pushes failed").element("dd", number(stats.failed));
    h.close("dl").close("section");
    h.open("section", {{"class", "card wide"}}).element("h2", "Last push");
    if (!stats.last_push) {
        h.element("p", "Nothing was pushed to this device yet.", {{"class", "empty"}});
    } else {
        const LastPush& p = *stats.last_push;
        h.open("dl");
        h.element("dt", "Answered").element("dd", when(p.time_ms) + " UTC (" + age(p.time_ms, frame.now_ms) + ")");
        h.element("dt", "Tail").element("dd", p.tail, {{"class", "id"}});
        h.element("dt", "APNs").element("dd", apns_answer(p), {{"class", p.status == 200 ? "ok" : "bad"}});
        h.element("dt", "apns-id").element("dd", p.apns_id.empty() ? "\u2014" : p.apns_id, {{"class", "token-full"}});
        h.close("dl");
    }
    h.close("section");
}

void search_form(Html& h, const PageFrame& frame, std::string_view path, std::string_view name,
                 std::string_view label, std::string_view value, std::string_view pattern) {
    h.open("form", {{"method", "get"}, {"action", page_url(frame.base, path)}, {"class", "search"}, {"role", "search"}});
    h.element("label", label, {{"for", name}});
    h.empty("input", {{"type", "search"}, {"id", name}, {"name", name}, {"value", value}, {"pattern", pattern},
                      {"autocomplete", "off"}, {"spellcheck", "false"}});
    h.element("button", "Search", {{"type", "submit"}});
    h.close("form");
}

}  // namespace

std::string render_overview(const PageFrame& frame, const OverviewModel& model) {
    Html h;
    head(h, frame, "Overview", "Overview");
    h.element("h1", "Overview");
    h.open("div", {{"class", "cards"}});
    if (model.queue) {
        const QueueStats& q = *model.queue;
        const bool alive = api::sender_alive(q, frame.now_ms);
        card(h, "Sender", {{"Heartbeat", age(q.consumer_heartbeat_ms, frame.now_ms)}}, alive ? "ok" : "bad");
        card(h, "Queue", {{"Depth", number(q.depth)}, {"Capacity", number(q.capacity)},
                          {"Used", percent(q.depth, q.capacity)},
                          {"Oldest", q.oldest_enqueued_ms == 0 ? "\u2014" : age(q.oldest_enqueued_ms, frame.now_ms)}});
    } else {
        card(h, "Queue", {{"State", "the queue file is unavailable (see the error log)"}});
    }
    if (model.store) {
        const StoreTotals& s = *model.store;
        card(h, "Store", {{"Devices", number(s.devices)}, {"Groups", number(s.groups)},
                          {"Outbox", number(s.outbox)},
                          {"Map used", bytes(s.map_used) + " of " + bytes(s.map_size) + " (" + percent(s.map_used, s.map_size) + ")"}});
    } else {
        card(h, "Store", {{"State", "the store is unavailable (see the error log)"}});
    }
    h.close("div");
    if (model.store) {
        h.open("section").element("h2", "Devices per app");
        if (model.apps.empty()) {
            h.element("p", "No devices yet.", {{"class", "empty"}});
        } else {
            h.open("div", {{"class", "table narrow"}}).open("table", {{"class", "figures"}}).open("thead").open("tr");
            h.element("th", "App").element("th", "Platform").element("th", "Environment");
            h.element("th", "Devices", {{"class", "num"}});
            h.close("tr").close("thead").open("tbody");
            for (const auto& app : model.apps) {
                h.open("tr").element("td", app.bundle_id).element("td", to_string(app.platform));
                h.element("td", to_string(app.environment));
                h.element("td", number(app.devices), {{"class", "num"}}).close("tr");
            }
            h.close("tbody").close("table").close("div");
        }
        h.close("section");
    }
    if (model.queue) {
        h.open("section").element("h2", "Counters");
        h.element("p", "Since the queue file was created " + age(model.queue->created_ms, frame.now_ms) + ".", {{"class", "note"}});
        h.open("div", {{"class", "table narrow"}}).open("table", {{"class", "figures"}}).open("tbody");
        for (unsigned i = 0; i < static_cast<unsigned>(Counter::count_); ++i) {
            h.open("tr").element("th", counter_labels[i], {{"scope", "row"}});
            h.element("td", number(model.queue->counters[i]), {{"class", "num"}}).close("tr");
        }
        h.close("tbody").close("table").close("div").close("section");
    }
    return finish(h, frame);
}

std::string render_group_search(const PageFrame& frame, const GroupSearchModel& model) {
    Html h;
    head(h, frame, "Groups", "Groups");
    h.element("h1", "Groups");
    search_form(h, frame, "groups", "prefix", "Group id starts with", model.request.prefix, "[A-Za-z0-9._~\\-]{0,128}");
    if (model.page.items.empty()) {
        h.element("p", model.request.prefix.empty() ? "No groups yet." : "No group id starts with \u201c" + model.request.prefix + "\u201d.", {{"class", "empty"}});
    } else {
        h.open("div", {{"class", "table"}}).open("table").open("thead").open("tr");
        h.element("th", "Group").element("th", "Devices", {{"class", "num"}});
        h.close("tr").close("thead").open("tbody");
        for (const auto& g : model.page.items) {
            h.open("tr").open("td", {{"data-label", "Group"}});
            h.link(page_url(frame.base, "group", {{"id", g.group}}), g.group).close("td");
            h.element("td", number(g.devices), {{"data-label", "Devices"}, {"class", "num"}}).close("tr");
        }
        h.close("tbody").close("table").close("div");
    }
    next_link(h, model.page.next_after,
              page_url(frame.base, "groups", {{"prefix", model.request.prefix}, {"after", model.page.next_after.value_or("")}}),
              page_url(frame.base, "groups", {{"prefix", model.request.prefix}}), model.request.after.empty());
    return finish(h, frame);
}

std::string render_group(const PageFrame& frame, const GroupModel& model) {
    Html h;
    head(h, frame, "Group " + model.request.group, "Groups");
    h.open("h1").text("Group ").element("span", model.request.group, {{"class", "id"}}).close("h1");
    if (model.devices == 0) {
        h.element("p", "No devices are registered in this group.", {{"class", "empty"}});
        return finish(h, frame);
    }
    h.element("p", number(model.devices) + (model.devices == 1 ? " device" : " devices"), {{"class", "note"}});
    device_table(h, frame, model.page.items, model.stats, false);
    next_link(h, model.page.next_after,
              page_url(frame.base, "group", {{"id", model.request.group}, {"after", model.page.next_after.value_or("")}}),
              page_url(frame.base, "group", {{"id", model.request.group}}), model.request.after.empty());
    return finish(h, frame);
}

std::string render_device_search(const PageFrame& frame, const DeviceSearchModel& model) {
    Html h;
    head(h, frame, "Devices", "Devices");
    h.element("h1", "Devices");
    search_form(h, frame, "devices", "token", "Token or its first hex digits", model.request.token_prefix,
                "[0-9A-Fa-f]{0,200}");
    const auto& items = model.page.items;
    if (model.request.token_prefix.empty()) return finish(h, frame);
    if (items.empty()) {
        h.element("p", "No device token starts with \u201c" + model.request.token_prefix + "\u201d.", {{"class", "empty"}});
    } else if (items.size() == 1 && items.front().token == model.request.token_prefix) {
        device_detail(h, frame, items.front(), model.stats.empty() ? DeviceStats{} : model.stats.front());
    } else {
        device_table(h, frame, items, model.stats, true);
    }
    next_link(h, model.page.next_after,
              page_url(frame.base, "devices", {{"token", model.request.token_prefix}, {"after", model.page.next_after.value_or("")}}),
              page_url(frame.base, "devices", {{"token", model.request.token_prefix}}), model.request.after.empty());
    return finish(h, frame);
}

std::string render_events(const PageFrame& frame, const EventsModel& model) {
    Html h;
    head(h, frame, "Events", "Events");
    h.element("h1", "Recent events");
    h.element("p", "Failures, prunes and credential alerts, newest first; the store keeps the last " +
                       std::to_string(recent_events_kept) + ".", {{"class", "note"}});
    if (model.page.items.empty()) {
        h.element("p", "No events.", {{"class", "empty"}});
    } else {
        h.open("div", {{"class", "table"}}).open("table").open("thead").open("tr");
        for (auto label : {"Time", "Kind", "Group", "Token", "Reason"}) h.element("th", label);
        h.close("tr").close("thead").open("tbody");
        for (const auto& e : model.page.items) {
            h.open("tr").element("td", when(e.time_ms), {{"data-label", "Time"}});
            h.element("td", to_string(e.kind), {{"data-label", "Kind"}, {"class", e.kind == EventKind::pruned ? "" : "bad"}});
            h.open("td", {{"data-label", "Group"}});
            if (e.group.empty()) {
                h.text("\u2014");
            } else {
                h.link(page_url(frame.base, "group", {{"id", e.group}}), e.group);
            }
            h.close("td").open("td", {{"data-label", "Token"}, {"class", "token"}});
            if (e.token_prefix.empty()) {
                h.text("\u2014");
            } else {
                h.link(page_url(frame.base, "devices", {{"token", e.token_prefix}}), e.token_prefix);
            }
            h.close("td").element("td", e.reason, {{"data-label", "Reason"}}).close("tr");
        }
        h.close("tbody").close("table").close("div");
    }
    next_link(h, model.page.next_after, page_url(frame.base, "events", {{"before", model.page.next_after.value_or("")}}),
              page_url(frame.base, "events"), model.request.before == 0);
    return finish(h, frame);
}

std::string render_problem(const PageFrame& frame, int status, std::string_view message) {
    Html h;
    const std::string title = std::to_string(status) + (status == 400   ? " Bad request"
                                                        : status == 404 ? " Not found"
                                                        : status == 405 ? " Method not allowed"
                                                        : status == 503 ? " Unavailable"
                                                                        : " Server error");
    head(h, frame, title, "");
    h.element("h1", title);
    h.element("p", message, {{"class", "problem"}});
    h.open("p").link(page_url(frame.base, ""), "Back to the overview").close("p");
    return finish(h, frame);
}

}  // namespace pushsync::admin
