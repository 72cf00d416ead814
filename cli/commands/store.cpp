// SPDX-License-Identifier: BSD-2-Clause
// pushsyncctl commands on the LMDB store: listing, removing, stats, gc, export/import, check.
// Reads open the environment read-only, so they run beside nginx and the sender.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <ext/stdio_filebuf.h>
#include <unistd.h>

#include "cli/args.hpp"
#include "cli/check_modes.hpp"
#include "cli/commands/budget.hpp"
#include "cli/cli.hpp"
#include "cli/commands/credentials_check.hpp"
#include "cli/format.hpp"
#include "cli/group_selection.hpp"
#include "cli/table.hpp"
#include "shared/safe_open.hpp"
#include "shared/store/store.hpp"
#include "shared/validation.hpp"

namespace pushsync::cli {

std::unique_ptr<Store> open_store(const Config& config, bool read_only) {
    StoreOptions options = StoreOptions::from(config.store);
    options.read_only = read_only;
    // A read-only open of a path where nothing was ever written says so plainly rather than
    // with LMDB's ENOENT.
    if (read_only && !std::filesystem::exists(std::filesystem::path(options.path) / "data.mdb")) {
        throw Failed("store " + options.path + ": no store here yet (nothing registered, or store.path is wrong)");
    }
    return std::make_unique<Store>(options);
}

namespace {

std::vector<OptionSpec> with_delivery_option(std::vector<OptionSpec> options) {
    options.push_back({"--delivery", "", "also each device's delivery statistics and newest tail sent (moving groups)"});
    return options;
}

constexpr std::int64_t ms_per_day = 86'400'000;

std::string checked_group(const std::string& group) {
    if (!is_valid_group(group)) {
        throw UsageError("invalid group \"" + group + "\" (1-128 characters of A-Z a-z 0-9 . _ ~ -)");
    }
    return group;
}

std::string checked_token(const std::string& token) {
    if (!is_valid_device_token(token)) {
        throw UsageError("invalid device token \"" + token +
                         "\" (apns: 16-200 hex digits, even length; fcm: 32-1024 of A-Z a-z 0-9 _ - :)");
    }
    return device_key(token);
}

// --- groups -------------------------------------------------------------------------------

int run_groups(const Invocation& inv) {
    const std::size_t limit = inv.has("--limit") ? parse_count(*inv.option("--limit"), "--limit") : 0;
    const auto store = open_store(inv.config, true);
    const std::vector<GroupCount> groups = store->list_groups(limit);
    if (inv.json) {
        Json list = Json::array();
        for (const GroupCount& g : groups) list.push_back({{"group", g.group}, {"devices", g.devices}});
        print_json(inv.out, {{"groups", list}});
        return exit_done;
    }
    Table table({"GROUP", "DEVICES"}, {false, true});
    for (const GroupCount& g : groups) table.add({g.group, std::to_string(g.devices)});
    table.print(inv.out);
    return exit_done;
}

// --- devices GROUP / device TOKEN ---------------------------------------------------------

Table device_table() {
    return Table({"TOKEN", "GROUP", "BUNDLE_ID", "ENVIRONMENT", "APP_VERSION", "REGISTERED_AT", "LAST_SEEN"});
}

void add_device_row(Table& table, const Device& d) {
    table.add({d.token, d.group, d.bundle_id, std::string(to_string(d.environment)),
               d.app_version.empty() ? "-" : d.app_version, format_rfc3339(d.registered_at_ms),
               format_rfc3339(d.last_seen_ms)});
}

int run_devices(const Invocation& inv) {
    const std::string group = checked_group(inv.args[0]);
    const auto store = open_store(inv.config, true);
    const std::vector<Device> devices = store->list_group(group);
    if (devices.empty()) throw NotFound("group \"" + group + "\" has no devices");
    if (inv.json) {
        Json list = Json::array();
        for (const Device& d : devices) list.push_back(device_json(d));
        print_json(inv.out, {{"group", group}, {"devices", list}});
        return exit_done;
    }
    Table table = device_table();
    for (const Device& d : devices) add_device_row(table, d);
    table.print(inv.out);
    return exit_done;
}

int run_device(const Invocation& inv) {
    const std::string token = checked_token(inv.args[0]);
    const auto store = open_store(inv.config, true);
    const std::optional<Device> device = store->get_device(token);
    if (!device) throw NotFound("device " + token + " is not registered");
    // Kept beside the device, never in its object (docs/api.md): shown after it.
    const DeviceStats delivery = store->device_stats(token);
    const Json budget = budget_json(*store, token, inv.config.delivery.device_min_interval_s, now_unix_ms());
    if (inv.json) {
        Json out = device_json(*device);
        out["delivery"] = delivery_json(delivery);
        if (!budget.is_null()) out["budget"] = budget;
        print_json(inv.out, out);
        return exit_done;
    }
    Table table;
    table.add({"token", device->token});
    table.add({"group", device->group});
    table.add({"bundle_id", device->bundle_id});
    table.add({"environment", std::string(to_string(device->environment))});
    table.add({"app_version", device->app_version.empty() ? "-" : device->app_version});
    table.add({"registered_at", format_rfc3339(device->registered_at_ms)});
    table.add({"last_seen", format_rfc3339(device->last_seen_ms)});
    table.add({"pushes_sent", std::to_string(delivery.sent)});
    table.add({"pushes_failed", std::to_string(delivery.failed)});
    table.add({"last_push", delivery.last_push ? last_push_text(*delivery.last_push) : "-"});
    if (!budget.is_null()) add_budget_rows(table, budget);
    table.print(inv.out);
    return exit_done;
}

// --- remove-device TOKEN / remove-group GROUP -----------------------------------------------

int run_remove_device(const Invocation& inv) {
    const std::string token = checked_token(inv.args[0]);
    const auto store = open_store(inv.config, false);
    const std::optional<Device> device = store->get_device(token);
    // A registration racing in between moves it to another group: unregister then reports false.
    if (!device || !store->unregister_device(device->group, token)) throw NotFound("device " + token + " is not registered");
    store->sync();
    if (inv.json) {
        print_json(inv.out, {{"removed", device_json(*device)}});
    } else {
        inv.out << "removed device " << token << " from group " << terminal_text(device->group) << '\n';
    }
    return exit_done;
}

int run_remove_group(const Invocation& inv) {
    const std::string group = checked_group(inv.args[0]);
    const auto store = open_store(inv.config, false);
    const std::size_t removed = store->remove_group(group);
    if (removed == 0) throw NotFound("group \"" + group + "\" has no devices");
    store->sync();
    if (inv.json) {
        print_json(inv.out, {{"group", group}, {"removed", removed}});
    } else {
        inv.out << "removed group " << group << " (" << removed << " device" << (removed == 1 ? "" : "s") << ")\n";
    }
    return exit_done;
}

// --- stats ------------------------------------------------------------------------------------

int run_stats(const Invocation& inv) {
    const auto store = open_store(inv.config, true);
    const StoreStats stats = store->stats();
    // Pushes waiting for their device's budget (delivery.device_min_interval_s).
    const std::size_t waiting = store->held_count();
    if (inv.json) {
        Json per_app = Json::array();
        for (const auto& app : stats.per_app) {
            per_app.push_back({{"bundle_id", app.bundle_id},
                               {"platform", std::string(to_string(app.platform))},
                               {"environment", std::string(to_string(app.environment))},
                               {"devices", app.devices}});
        }
        print_json(inv.out, {{"path", inv.config.store.path},
                             {"devices", stats.devices},
                             {"groups", stats.groups},
                             {"per_app", per_app},
                             {"map_used", stats.map_used},
                             {"map_size", stats.map_size},
                             {"outbox", stats.outbox},
                             {"waiting_pushes", waiting}});
        return exit_done;
    }
    char percent[32];
    std::snprintf(percent, sizeof percent, "%.1f%%",
                  stats.map_size ? 100.0 * static_cast<double>(stats.map_used) / static_cast<double>(stats.map_size) : 0.0);
    Table summary;
    summary.add({"path", inv.config.store.path});
    summary.add({"devices", std::to_string(stats.devices)});
    summary.add({"groups", std::to_string(stats.groups)});
    summary.add({"map_used", format_bytes(stats.map_used) + " " + percent});
    summary.add({"map_size", format_bytes(stats.map_size)});
    summary.add({"outbox", std::to_string(stats.outbox)});
    if (waiting != 0) summary.add({"waiting_pushes", std::to_string(waiting)});
    summary.print(inv.out);
    inv.out << '\n';
    Table per_app({"BUNDLE_ID", "PLATFORM", "ENVIRONMENT", "DEVICES"}, {false, false, false, true});
    for (const auto& app : stats.per_app) {
        per_app.add({app.bundle_id, std::string(to_string(app.platform)), std::string(to_string(app.environment)),
                     std::to_string(app.devices)});
    }
    per_app.print(inv.out);
    return exit_done;
}

// --- gc -----------------------------------------------------------------------------------------

int run_gc(const Invocation& inv) {
    const bool dry_run = inv.has("--dry-run");
    const std::uint64_t days = inv.has("--older-than") ? parse_count(*inv.option("--older-than"), "--older-than")
                                                       : inv.config.delivery.registration_ttl_days;
    if (!inv.has("--older-than") && days == 0) {
        // registration_ttl_days: 0 means devices never expire.
        if (inv.json) {
            print_json(inv.out, {{"dry_run", dry_run}, {"older_than_days", 0}, {"removed", 0}, {"devices", Json::array()},
                                 {"note", "delivery.registration_ttl_days is 0 (never)"}});
        } else {
            inv.out << "nothing to do: delivery.registration_ttl_days is 0 (never); use --older-than DAYS\n";
        }
        return exit_done;
    }
    if (days > 365ull * 1000) throw UsageError("--older-than " + std::to_string(days) + " is more than 1000 years");
    const std::int64_t cutoff = now_unix_ms() - static_cast<std::int64_t>(days) * ms_per_day;
    const auto store = open_store(inv.config, dry_run);
    // gc runs from a timer, its output going to the journal: devices are named by their prefix,
    // as in every log line (a token in a log is a token handed to everyone who reads the log).
    Table table({"TOKEN_PREFIX", "GROUP", "BUNDLE_ID", "ENVIRONMENT", "LAST_SEEN"});
    Json list = Json::array();
    const std::size_t count = store->gc(cutoff, dry_run, [&](const Device& d) {
        const std::string prefix = d.token.substr(0, 8);  // the listing's token_prefix
        if (inv.json) {
            Json entry = device_json(d);
            entry.erase("token");
            entry["token_prefix"] = prefix;
            list.push_back(std::move(entry));
        } else {
            table.add({prefix, d.group, d.bundle_id, std::string(to_string(d.environment)), format_rfc3339(d.last_seen_ms)});
        }
    });
    if (!dry_run) store->sync();
    if (inv.json) {
        print_json(inv.out, {{"dry_run", dry_run},
                             {"older_than_days", days},
                             {"cutoff", format_rfc3339(cutoff)},
                             {dry_run ? "would_remove" : "removed", count},
                             {"devices", list}});
        return exit_done;
    }
    if (table.rows() > 0) table.print(inv.out);
    inv.out << (dry_run ? "would remove " : "removed ") << count << " device" << (count == 1 ? "" : "s")
            << " not seen since " << format_rfc3339(cutoff) << " (" << days << " days)\n";
    return exit_done;
}

// --- export [FILE] / import FILE -----------------------------------------------------------

int run_export(const Invocation& inv) {
    const GroupFilter include = group_selection(inv).value_or(GroupFilter{});
    const auto store = open_store(inv.config, true);
    if (inv.args.empty() || inv.args[0] == "-") {
        const std::size_t count = store->export_jsonl(inv.out, include, inv.has("--delivery"));
        inv.out.flush();
        if (!inv.out) throw Failed("export: writing to standard output failed");
        inv.err << "exported " << count << " devices\n";
        return exit_done;
    }
    // Written beside the target and renamed over it: a failed export never leaves half a file
    // where a good one was. The file holds every token: made 0600, exclusively, under a name nobody
    // can guess (a link planted at it or at the target is replaced, never written through).
    const std::string target = inv.args[0];
    const std::filesystem::path target_path(target);
    std::string folder_path = target_path.parent_path().string();
    if (folder_path.empty()) folder_path = ".";
    const std::string name = target_path.filename().string();
    std::size_t count = 0;
    try {
        const safe_open::Folder folder = safe_open::open_folder(folder_path);
        safe_open::TempFile temp(folder, name, 0600);
        const std::string temp_path = folder.path_of(temp.name());
        {
            __gnu_cxx::stdio_filebuf<char> buffer(::dup(temp.fd()), std::ios::out | std::ios::binary);
            std::ostream file(&buffer);
            count = store->export_jsonl(file, include, inv.has("--delivery"));
            file.flush();
            if (!file || ::fsync(buffer.fd()) != 0) throw Failed("export: writing " + temp_path + " failed");
        }
        temp.place_over(name);
    } catch (const safe_open::UnsafeFile& e) {
        throw Failed(std::string("export: ") + e.what());
    }
    if (inv.json) print_json(inv.out, {{"file", target}, {"exported", count}});
    else inv.out << "exported " << count << " devices to " << target << '\n';
    return exit_done;
}

int run_import(const Invocation& inv) {
    const std::string source = inv.args[0];
    std::ifstream file;
    std::istream* in = &std::cin;
    if (source != "-") {
        file.open(source, std::ios::binary);
        if (!file) throw NotFound("import: cannot read " + source + " (" + std::strerror(errno) + ")");
        in = &file;
    }
    const auto store = open_store(inv.config, false);
    std::size_t count = 0;
    try {
        count = store->import_jsonl(*in, inv.has("--merge") ? Store::ImportMode::merge : Store::ImportMode::replace);
    } catch (const std::invalid_argument& e) {
        throw Failed("import " + source + ": " + e.what() + " (nothing imported)");
    }
    store->sync();
    if (inv.json) print_json(inv.out, {{"file", source}, {"imported", count}});
    else inv.out << "imported " << count << " devices from " << source << '\n';
    return exit_done;
}

// --- check --------------------------------------------------------------------------------------

int run_check(const Invocation& inv) {
    // The modes first: a store others may write is refused by the open below.
    const std::vector<FileMode> modes = file_modes_of(inv.config);
    std::vector<std::string> problems = mode_problems(modes);
    StoreStats stats;
    if (problems.empty()) {
        const auto store = open_store(inv.config, true);
        problems = store->check();
        stats = store->stats();
    }
    if (inv.json) {
        Json mode_list = Json::array();
        for (const FileMode& m : modes)
            mode_list.push_back({{"path", m.path}, {"mode", m.mode.empty() ? Json(nullptr) : Json(m.mode)}});
        print_json(inv.out, {{"consistent", problems.empty()},
                             {"devices", stats.devices},
                             {"groups", stats.groups},
                             {"problems", problems},
                             {"modes", mode_list}});
        return problems.empty() ? exit_done : exit_failed;
    }
    for (const FileMode& m : modes) inv.out << "mode " << (m.mode.empty() ? "absent" : m.mode) << ' ' << m.path << '\n';
    if (problems.empty()) {
        inv.out << "consistent: " << stats.devices << " devices in " << stats.groups << " groups\n";
    } else {
        for (const std::string& problem : problems) inv.out << terminal_text(problem) << '\n';
        inv.out << problems.size() << " problem" << (problems.size() == 1 ? "" : "s") << " found\n";
    }
    return problems.empty() ? exit_done : exit_failed;
}

int run_check_credentials(const Invocation& inv) {
    const std::int64_t now_s = static_cast<std::int64_t>(std::time(nullptr));
    const CredentialReport report = check_credentials(inv.config, now_s);
    if (inv.json) {
        Json certificates = Json::array();
        for (const CertificateExpiry& c : report.certificates) {
            certificates.push_back({{"bundle_id", c.bundle_id},
                                    {"cert_file", c.cert_file},
                                    {"not_after", format_rfc3339(c.not_after_unix_s * 1000)},
                                    {"not_after_unix_s", c.not_after_unix_s},
                                    {"days_left", (c.not_after_unix_s - now_s) / 86400}});
        }
        Json accounts = Json::array();
        for (const ServiceAccountSummary& a : report.service_accounts) {
            accounts.push_back({{"bundle_id", a.bundle_id},
                                {"file", a.file},
                                {"project_id", a.project_id},
                                {"client_email", a.client_email}});
        }
        print_json(inv.out, {{"user", report.user},
                             {"usable", report.problems.empty()},
                             {"problems", report.problems},
                             {"warnings", report.warnings},
                             {"certificates", certificates},
                             {"service_accounts", accounts}});
    } else {
        for (const std::string& problem : report.problems) inv.out << problem << '\n';
        for (const std::string& warning : report.warnings) inv.out << "warning: " << warning << '\n';
        for (const CertificateExpiry& c : report.certificates) {
            inv.out << "certificate " << c.bundle_id << " " << c.cert_file << " expires "
                    << format_rfc3339(c.not_after_unix_s * 1000) << " (in " << (c.not_after_unix_s - now_s) / 86400
                    << " days)\n";
        }
        for (const ServiceAccountSummary& a : report.service_accounts) {
            inv.out << "service account " << a.bundle_id << " " << a.file << " project " << a.project_id << " as "
                    << a.client_email << "\n";
        }
        inv.out << "credentials as read by " << report.user << ": "
                << (report.problems.empty() ? std::string("usable")
                                            : std::to_string(report.problems.size()) + " problem" +
                                                  (report.problems.size() == 1 ? "" : "s") + " found")
                << '\n';
    }
    return report.problems.empty() ? exit_done : exit_failed;
}

}  // namespace

std::vector<CommandSpec> store_commands() {
    return {
        {{"groups"}, "", "list groups and their device counts, sorted by group", "",
         {{"--limit", "N", "show at most N groups (default: all)"}}, 0, 0, run_groups},
        {{"devices"}, "GROUP", "list a group's devices, sorted by token", "Exit status 1 when the group has no devices.",
         {}, 1, 1, run_devices},
        {{"device"}, "TOKEN", "show one device (token in either case) and its delivery statistics",
         "Pushes sent and failed and the last one (time, tail, APNs status and reason, apns-id); export leaves them out. Exit status 1 when it is not registered.", {},
         1, 1, run_device},
        {{"remove-device"}, "TOKEN", "unregister one device", "Exit status 1 when it is not registered.", {}, 1, 1,
         run_remove_device},
        {{"remove-group"}, "GROUP", "unregister every device of a group", "Exit status 1 when the group has no devices.",
         {}, 1, 1, run_remove_group},
        {{"stats"}, "", "devices, groups, devices per bundle and environment, map used and size", "", {}, 0, 0,
         run_stats},
        {{"gc"}, "", "remove devices not seen for registration_ttl_days (or --older-than DAYS)",
         "DAYS defaults to delivery.registration_ttl_days; when that is 0 (never) gc does nothing\n"
         "unless --older-than is given.",
         {{"--older-than", "DAYS", "devices not seen for this many days"},
          {"--dry-run", "", "list what would be removed, remove nothing"}},
         0, 0, run_gc},
        {{"export"}, "[FILE]", "write every device as JSON lines (one device object per line)",
         "To standard output when FILE is absent or -; a FILE is replaced only once complete.\n"
         "--groups or --ring with --self export only those groups (moving groups to another shard);\n"
         "--delivery adds each device's delivery statistics and newest tail sent, which import keeps.",
         with_delivery_option(group_selection_options()), 0, 1, run_export},
        {{"import"}, "FILE", "add or replace the devices of a JSON lines file (from export)",
         "All lines in one transaction: a bad line imports nothing (exit status 3). FILE - reads standard input.\n"
         "With --merge a device already here keeps the earlier registered_at and the fields of the\n"
         "record seen last, so copying a moving shard's changes again never undoes a newer refresh.",
         {{"--merge", "", "merge with devices already here instead of replacing them"}}, 1, 1, run_import},
        {{"check"}, "", "check the file modes, and the group index against the device records",
         "Prints the mode of the store's folder and files and of the queue file. Exit status 3 when\n"
         "problems are found (others may read or write a file; an index entry without its device), one\n"
         "line each. The credentials: check credentials.",
         {}, 0, 0, run_check},
        {{"check", "credentials"}, "", "check the keys and certificates the sender would load",
         "Every key, certificate and CA file pushsync.yaml names, as the sender would load them:\n"
         "readable by user pushsync (or, when it does not exist, by you), parsable, key matching\n"
         "certificate, not expired; each certificate's expiry is shown, and one within 30 days of\n"
         "it is a warning. No secret is printed. Exit status 3 when problems are found, one line\n"
         "each (FILE:LINE: KEY: PATH: problem).",
         {}, 0, 0, run_check_credentials},
    };
}

}  // namespace pushsync::cli
