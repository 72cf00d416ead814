// SPDX-License-Identifier: BSD-2-Clause
// Store administration for pushsyncctl: removing groups, gc, export/import as JSON lines, the
// consistency check and statistics.
#include <dirent.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>
#include <map>
#include <optional>
#include <vector>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>
#include <tuple>

#include "shared/store/store.hpp"
#include "shared/file_modes.hpp"
#include "shared/safe_open.hpp"
#include "shared/store/codec.hpp"
#include "shared/store/impl.hpp"

namespace pushsync {
namespace {

namespace codec = store_codec;

std::string printable(std::string_view bytes) {
    std::string out;
    for (char c : bytes) {
        if (c >= 0x20 && c < 0x7f) {
            out.push_back(c);
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            auto byte = static_cast<unsigned char>(c);
            out += "\\x";
            out.push_back(hex[byte >> 4]);
            out.push_back(hex[byte & 0xf]);
        }
    }
    return out;
}

// "com.example.app/production", and "/fcm" after it for a device of another platform than apns.
std::string app_name(const std::tuple<std::string, Environment, Platform>& app) {
    std::string name = printable(std::get<0>(app)) + "/" + std::string(to_string(std::get<1>(app)));
    if (std::get<2>(app) != Platform::apns) name += "/" + std::string(to_string(std::get<2>(app)));
    return name;
}

}  // namespace

std::size_t Store::Impl::remove_group(lmdb::Txn& txn, std::string_view group) const {
    std::vector<std::string> tokens;
    {
        lmdb::Cursor cursor(txn, groups);
        std::string prefix = codec::group_prefix(group);
        for (bool more = cursor.seek(prefix); more && cursor.key().starts_with(prefix); more = cursor.next()) {
            tokens.emplace_back(cursor.key().substr(prefix.size()));
        }
    }
    std::size_t removed = 0;
    for (const auto& token : tokens) {
        auto device = find_device(txn, token);
        if (device && device->group == group) {
            remove_device(txn, *device);
            ++removed;
        } else {
            // A stray index entry (check() reports those): it goes, a device of another group stays.
            remove_from_group(txn, group, token);
        }
    }
    return removed;
}

std::size_t Store::remove_group(std::string_view group) {
    auto txn = impl_->write();
    const std::size_t removed = impl_->remove_group(txn, group);
    txn.commit();
    return removed;
}

std::size_t Store::gc(std::int64_t cutoff_ms, bool dry_run, const std::function<void(const Device&)>& visit,
                     std::size_t batch, const std::function<void()>& between_batches) {
    batch = std::max<std::size_t>(batch, 1);
    std::size_t found = 0;
    std::string after;  // the last token scanned; the next scan goes on past it
    for (bool started = false, done = false; !done; started = true) {
        std::vector<Device> stale;
        {
            // A read transaction blocks no writer; it is kept short so LMDB can reuse the pages
            // that registrations free meanwhile.
            auto txn = impl_->read();
            lmdb::Cursor cursor(txn, impl_->devices);
            bool more = started ? cursor.seek(after) : cursor.first();
            if (more && started && cursor.key() == after) more = cursor.next();
            for (std::size_t scanned = 0; more && stale.size() < batch && scanned < gc_scan_batch;
                 ++scanned, more = cursor.next()) {
                after.assign(cursor.key());
                Device device = codec::decode_device(cursor.key(), cursor.value());
                if (device.last_seen_ms < cutoff_ms) stale.push_back(std::move(device));
            }
            done = !more;
        }
        if (dry_run) {
            for (const auto& device : stale)
                if (visit) visit(device);
            found += stale.size();
        } else if (!stale.empty()) {
            std::vector<Device> removed;
            auto txn = impl_->write();
            for (const auto& seen : stale) {
                // Registered again (or moved, or removed) since the scan: not this gc's to remove.
                std::optional<Device> device = impl_->find_device(txn, seen.token);
                if (!device || device->last_seen_ms >= cutoff_ms) continue;
                impl_->remove_device(txn, *device);
                removed.push_back(std::move(*device));
            }
            txn.commit();
            for (const auto& device : removed)
                if (visit) visit(device);
            found += removed.size();
        }
        if (!done && between_batches) between_batches();
    }
    return found;
}

std::size_t Store::export_jsonl(std::ostream& out, const std::function<bool(std::string_view group)>& include,
                               bool with_delivery) const {
    auto txn = impl_->read();
    lmdb::Cursor cursor(txn, impl_->devices);
    std::size_t count = 0;
    for (bool more = cursor.first(); more; more = cursor.next()) {
        const Device device = codec::decode_device(cursor.key(), cursor.value());
        if (include && !include(device.group)) continue;
        if (with_delivery) {
            nlohmann::json line = nlohmann::json::parse(device_to_json(device));
            line["delivery"] = impl_->delivery_record(txn, device.token);
            out << line.dump() << '\n';
        } else {
            out << device_to_json(device) << '\n';
        }
        ++count;
    }
    return count;
}

std::size_t Store::import_jsonl(std::istream& in, ImportMode mode) {
    auto txn = impl_->write();
    std::string line;
    std::size_t line_number = 0;
    std::size_t count = 0;
    while (std::getline(in, line)) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        // "delivery" (export --delivery) is the store's own addition to the device object.
        nlohmann::json fields = nlohmann::json::parse(line, nullptr, false);
        nlohmann::json delivery = nullptr;
        if (fields.is_object() && fields.contains("delivery")) {
            delivery = std::move(fields["delivery"]);
            fields.erase("delivery");
            line = fields.dump();
        }
        Device device;
        try {
            device = device_from_json(line);  // checks every identifier rule
        } catch (const std::exception& e) {
            // The transaction aborts on the way out: nothing of the file is imported.
            throw std::invalid_argument("line " + std::to_string(line_number) + ": " + e.what());
        }
        const std::optional<Device> stored = impl_->find_device(txn, device.token);
        if (mode == ImportMode::merge && stored) {
            const std::int64_t registered_at = std::min(stored->registered_at_ms, device.registered_at_ms);
            if (stored->last_seen_ms > device.last_seen_ms) device = *stored;
            device.registered_at_ms = registered_at;
        }
        impl_->put_device(txn, device, stored);
        if (!delivery.is_null()) {
            try {
                impl_->put_delivery_record(txn, device.token, delivery, mode == ImportMode::merge);
            } catch (const std::invalid_argument& e) {
                throw std::invalid_argument("line " + std::to_string(line_number) + ": " + e.what());
            }
        }
        ++count;
    }
    txn.commit();
    return count;
}

std::pair<std::size_t, std::size_t> Store::remove_groups(const std::function<bool(std::string_view group)>& include) {
    auto txn = impl_->write();
    std::vector<std::string> groups;
    {
        lmdb::Cursor cursor(txn, impl_->group_counts);
        for (bool more = cursor.first(); more; more = cursor.next()) {
            if (include(cursor.key())) groups.emplace_back(cursor.key());
        }
    }
    std::size_t devices = 0;
    for (const std::string& group : groups) devices += impl_->remove_group(txn, group);
    txn.commit();
    return {groups.size(), devices};
}

namespace {

[[noreturn]] void backup_failed(const std::string& dir, const std::string& problem) {
    throw StoreError(StoreErrc::unavailable, "backup " + dir + ": " + problem);
}

// The folder a backup goes into: made 0770 when missing; one that exists must be a folder (not a
// link to one) of mode 0700 or 0770 with nothing in it, so nobody else can have planted a name
// there or read the copy.
safe_open::Folder backup_folder(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) backup_failed(dir, std::string("cannot stat it (") + std::strerror(errno) + ")");
        if (::mkdir(dir.c_str(), 0700) != 0)
            backup_failed(dir, std::string("cannot create it (") + std::strerror(errno) + ")");
    } else if (S_ISLNK(st.st_mode)) {
        backup_failed(dir, "a symbolic link, which a backup never follows; refused (name the folder itself)");
    } else if (!S_ISDIR(st.st_mode)) {
        backup_failed(dir, "not a folder; refused (choose a new name)");
    } else if ((st.st_mode & 07777 & ~S_ISGID) != 0700 && (st.st_mode & 07777 & ~S_ISGID) != 0770) {
        backup_failed(dir, "folder of mode " + file_modes::octal(st.st_mode) +
                               ", where a backup's is 0700 or 0770; refused (chmod 0770 " + dir + ")");
    }
    safe_open::Folder folder;
    try {
        folder = safe_open::open_folder(dir);
    } catch (const safe_open::UnsafeFile& e) {
        backup_failed(dir, e.problem());
    }
    // The folder's own mode, on what was opened: 0770 for one made here, whatever the umask.
    if (!S_ISDIR(st.st_mode) && ::fchmod(folder.fd.get(), 0770) != 0)
        backup_failed(dir, std::string("cannot set its mode (") + std::strerror(errno) + ")");
    if (S_ISDIR(st.st_mode) && (folder.st.st_dev != st.st_dev || folder.st.st_ino != st.st_ino))
        backup_failed(dir, "replaced while it was being opened; refused");
    if (DIR* listing = ::fdopendir(::dup(folder.fd.get()))) {
        std::string first;
        while (const dirent* entry = ::readdir(listing)) {
            const std::string name = entry->d_name;
            if (name != "." && name != "..") {
                first = name;
                break;
            }
        }
        ::closedir(listing);
        if (!first.empty())
            backup_failed(dir, "holds " + first + "; a backup goes into a new or empty folder (choose another, or empty "
                               "it: rm -r " + dir + "/*)");
    } else {
        backup_failed(dir, std::string("cannot list it (") + std::strerror(errno) + ")");
    }
    return folder;
}

}  // namespace

void Store::backup(const std::string& dir) const {
    const safe_open::Folder folder = backup_folder(dir);
    // LMDB's copy goes into a file made here, exclusively, under an unpredictable name, with its
    // mode (and group pushsync where that exists) before a byte is in it; renamed to data.mdb
    // only once complete and on disk.
    std::optional<safe_open::TempFile> temp;
    try {
        temp.emplace(folder, "data.mdb", 0660);
    } catch (const safe_open::UnsafeFile& e) {
        backup_failed(dir, e.problem());
    }
    struct group gr {};
    struct group* found = nullptr;
    std::vector<char> buffer(4096);
    if (::getgrnam_r("pushsync", &gr, buffer.data(), buffer.size(), &found) == 0 && found)
        if (::fchown(temp->fd(), static_cast<uid_t>(-1), gr.gr_gid) != 0) {
            // Not a member of pushsync: the copy keeps its creator's group; its mode still keeps others out.
        }
    const int rc = mdb_env_copyfd2(impl_->env.get(), temp->fd(), MDB_CP_COMPACT);
    if (rc != MDB_SUCCESS) backup_failed(dir, mdb_strerror(rc));
    if (::fsync(temp->fd()) != 0) backup_failed(dir, std::string("cannot sync the copy (") + std::strerror(errno) + ")");
    try {
        if (!temp->place_if_absent("data.mdb")) backup_failed(dir, "a data.mdb appeared meanwhile; refused (choose another folder)");
    } catch (const safe_open::UnsafeFile& e) {
        backup_failed(dir, e.problem());
    }
    ::fsync(folder.fd.get());
}

std::vector<std::string> Store::check() const {
    std::vector<std::string> problems;
    auto txn = impl_->read();
    std::map<std::string, std::uint64_t> indexed;  // group -> index entries
    using AppKey = std::tuple<std::string, Environment, Platform>;
    std::map<AppKey, std::uint64_t> per_app;  // from the records

    {  // every record decodes and is indexed under its group
        lmdb::Cursor cursor(txn, impl_->devices);
        for (bool more = cursor.first(); more; more = cursor.next()) {
            std::string token = printable(cursor.key());
            try {
                Device device = codec::decode_device(cursor.key(), cursor.value());
                ++per_app[{device.bundle_id, device.environment, device.platform}];
                if (!txn.find(impl_->groups, codec::group_key(device.group, device.token))) {
                    problems.push_back("device " + token + ": not in the index of its group " + device.group);
                }
            } catch (const StoreError& e) {
                problems.push_back("device " + token + ": " + e.what());
            }
        }
    }
    {  // every index entry has a record of that group
        lmdb::Cursor cursor(txn, impl_->groups);
        for (bool more = cursor.first(); more; more = cursor.next()) {
            auto separator = cursor.key().find('\0');
            if (separator == std::string_view::npos || separator == 0) {
                problems.push_back("index entry " + printable(cursor.key()) + ": no group separator");
                continue;
            }
            auto group = cursor.key().substr(0, separator);
            auto token = cursor.key().substr(separator + 1);
            ++indexed[std::string(group)];
            auto record = txn.find(impl_->devices, token);
            if (!record) {
                problems.push_back("index entry " + printable(group) + "/" + printable(token) + ": no device record");
                continue;
            }
            try {
                Device device = codec::decode_device(token, *record);
                if (device.group != group) {
                    problems.push_back("index entry " + printable(group) + "/" + printable(token) +
                                       ": the device is in group " + device.group);
                }
            } catch (const StoreError&) {
                // Reported with the record above.
            }
        }
    }
    if (impl_->keyed_order) {  // the listing order holds each index entry once, under its keyed position
        std::uint64_t ordered = 0;
        lmdb::Cursor cursor(txn, impl_->group_order);
        for (bool more = cursor.first(); more; more = cursor.next()) {
            ++ordered;
            const auto separator = cursor.key().find('\0');
            const std::string token(cursor.value());
            if (separator == std::string_view::npos || separator == 0) {
                problems.push_back("order entry " + printable(cursor.key()) + ": no group separator");
                continue;
            }
            const auto group = cursor.key().substr(0, separator);
            if (cursor.key() != impl_->order_key(group, token)) {
                problems.push_back("order entry " + printable(group) + "/" + printable(token) +
                                   ": not at the position its token's keyed hash gives");
            } else if (!txn.find(impl_->groups, codec::group_key(group, token))) {
                problems.push_back("order entry " + printable(group) + "/" + printable(token) + ": not in the index");
            }
        }
        std::uint64_t index_entries = 0;
        for (const auto& [group, devices] : indexed) index_entries += devices;
        if (ordered != index_entries) {
            problems.push_back("listing order holds " + std::to_string(ordered) + " entries, the index " +
                               std::to_string(index_entries));
        }
    }
    {  // the counts match the index, both ways
        lmdb::Cursor cursor(txn, impl_->group_counts);
        std::map<std::string, std::uint64_t> counted;
        for (bool more = cursor.first(); more; more = cursor.next()) {
            std::string group(cursor.key());
            try {
                counted[group] = codec::decode_u64(cursor.value(), "group count");
            } catch (const StoreError& e) {
                problems.push_back("group " + printable(group) + ": " + e.what());
                counted[group] = 0;
            }
        }
        for (const auto& [group, devices] : indexed) {
            auto found = counted.find(group);
            std::uint64_t stored = found == counted.end() ? 0 : found->second;
            if (stored != devices) {
                problems.push_back("group " + printable(group) + ": count says " + std::to_string(stored) +
                                   ", index holds " + std::to_string(devices));
            }
        }
        for (const auto& [group, devices] : counted) {
            if (!indexed.contains(group)) {
                problems.push_back("group " + printable(group) + ": count says " + std::to_string(devices) +
                                   ", index holds 0");
            }
        }
    }
    if (impl_->statistics) {  // the kept device counts match the records
        std::map<AppKey, std::uint64_t> counted;
        try {
            for (const AppDeviceCount& app : impl_->read_device_counts(txn)) {
                counted[{app.bundle_id, app.environment, app.platform}] = app.devices;
            }
        } catch (const StoreError& e) {
            problems.push_back(std::string("device counts: ") + e.what());
        }
        for (const auto& [app, devices] : per_app) {
            const auto found = counted.find(app);
            const std::uint64_t stored = found == counted.end() ? 0 : found->second;
            if (stored != devices) {
                problems.push_back("devices of " + app_name(app) + ": count says " + std::to_string(stored) + ", records hold " +
                                   std::to_string(devices));
            }
        }
        for (const auto& [app, devices] : counted) {
            if (!per_app.contains(app)) {
                problems.push_back("devices of " + app_name(app) + ": count says " + std::to_string(devices) +
                                   ", records hold 0");
            }
        }
    }
    {  // outbox entries decode
        lmdb::Cursor cursor(txn, impl_->outbox);
        for (bool more = cursor.first(); more; more = cursor.next()) {
            try {
                codec::decode_outbox(codec::outbox_id(cursor.key()), cursor.value());
            } catch (const StoreError& e) {
                problems.push_back(std::string("outbox: ") + e.what());
            }
        }
    }
    return problems;
}

StoreStats Store::stats() const {
    StoreStats stats;
    auto txn = impl_->read();
    stats.devices = txn.entries(impl_->devices);
    stats.groups = txn.entries(impl_->group_counts);
    stats.outbox = txn.entries(impl_->outbox);
    // The kept counts, not a scan of the devices (the metrics endpoint asks on every scrape), in
    // the same snapshot as the other figures.
    for (const AppDeviceCount& app : impl_->read_device_counts(txn)) {
        stats.per_app.push_back({app.bundle_id, app.environment, static_cast<std::size_t>(app.devices), app.platform});
    }
    MDB_envinfo info{};
    MDB_stat env_stat{};
    lmdb::check(mdb_env_info(impl_->env.get(), &info), "environment info", impl_->options.path);
    lmdb::check(mdb_env_stat(impl_->env.get(), &env_stat), "environment stat", impl_->options.path);
    stats.map_used = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * env_stat.ms_psize;
    stats.map_size = info.me_mapsize;
    return stats;
}

}  // namespace pushsync
