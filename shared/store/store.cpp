// SPDX-License-Identifier: BSD-2-Clause
// The LMDB store: opening the environment (schema, map size, stale readers, durability mode),
// registrations, reads, APNs-driven pruning and the sender's outbox. Administration lives in
// shared/store/admin.cpp.
#include "shared/store/store.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <mutex>
#include <system_error>
#include <vector>

#include "shared/file_modes.hpp"
#include "shared/safe_open.hpp"
#include "shared/store/codec.hpp"
#include "shared/store/impl.hpp"

namespace pushsync {
namespace {

namespace codec = store_codec;

std::optional<MDB_dbi> open_dbi(const lmdb::Txn& txn, const char* name, bool create) {
    MDB_dbi dbi = 0;
    int rc = mdb_dbi_open(txn.get(), name, create ? MDB_CREATE : 0u, &dbi);
    if (rc == MDB_NOTFOUND && !create) return std::nullopt;
    lmdb::check(rc, std::string("open database ") + name, txn.path());
    return dbi;
}

const char* const kEnvironmentFiles[] = {"data.mdb", "lock.mdb"};

StoreError unsafe(const safe_open::UnsafeFile& e) { return StoreError(StoreErrc::unavailable, std::string("store ") + e.what()); }

// What LMDB will open, checked first: mdb_env_open opens data.mdb and lock.mdb by name, following
// symlinks and creating what is missing with the umask's mode. So each is opened here without
// following one and judged (safe_open.hpp), and made when missing with its mode through a
// temporary name. `identity` keeps what was found, for verify_environment_files() once LMDB has
// opened them. A read-only open creates only the lock file (as LMDB would), and only where it may.
// Returns whether data.mdb holds an environment already (is not empty).
struct FileIdentity {
    dev_t dev = 0;
    ino_t ino = 0;
    bool known = false;
};

bool prepare_environment_files(const safe_open::Folder& folder, bool read_only, FileIdentity (&identity)[2]) {
    bool existed = false;
    for (int i = 0; i < 2; ++i) {
        const char* name = kEnvironmentFiles[i];
        const bool may_create = !read_only || i == 1;
        auto opened = safe_open::open_existing(folder, name, O_RDONLY);
        if (!opened && may_create) {
            try {
                safe_open::TempFile fresh(folder, name, file_modes::kFile);
                fresh.place_if_absent(name);  // false: someone else's came first, judged below
            } catch (const safe_open::UnsafeFile&) {
                // Reading a store one may not write: LMDB then opens the lock file read-only.
                if (!read_only) throw;
            }
            opened = safe_open::open_existing(folder, name, O_RDONLY);
        }
        if (!opened) continue;  // read-only and absent: mdb_env_open says so
        // The store is data every process trusts only after checking; one others may write is refused.
        if (auto why = file_modes::writable_by_others(opened->fd.get(), folder.path_of(name)))
            throw StoreError(StoreErrc::unavailable, "store " + folder.path_of(name) + ": " + *why);
        identity[i] = FileIdentity{opened->st.st_dev, opened->st.st_ino, true};
        if (i == 0) existed = opened->st.st_size > 0;
        // Closed before mdb_env_open: LMDB's fcntl locks on the lock file belong to the process,
        // and closing another descriptor of that file after it took them would drop them.
    }
    return existed;
}

// After mdb_env_open: the data file LMDB holds is the one judged, and neither name was swapped.
// (A swap there and back within mdb_env_open itself goes unseen: LMDB opens by name. Root drops
// to the store's owner first, so such a race reaches no more than that user could write.)
void verify_environment_files(const safe_open::Folder& folder, MDB_env* env, const FileIdentity (&identity)[2]) {
    auto differs = [](const struct stat& st, const FileIdentity& id) {
        return id.known && (st.st_dev != id.dev || st.st_ino != id.ino);
    };
    auto refuse = [&](const char* name) {
        throw StoreError(StoreErrc::unavailable, "store " + folder.path_of(name) +
                                                     ": replaced while it was being opened; refused (find out who "
                                                     "replaces files in " + folder.path + ", then open it again)");
    };
    mdb_filehandle_t data_fd = -1;
    struct stat st {};
    if (mdb_env_get_fd(env, &data_fd) == MDB_SUCCESS && ::fstat(data_fd, &st) == 0 && differs(st, identity[0]))
        refuse("data.mdb");
    for (int i = 0; i < 2; ++i) {
        if (::fstatat(folder.fd.get(), kEnvironmentFiles[i], &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISLNK(st.st_mode) || differs(st, identity[i])) refuse(kEnvironmentFiles[i]);
    }
}

}  // namespace

StoreOptions StoreOptions::from(const StoreConfig& config) {
    StoreOptions options;
    options.path = config.path;
    options.map_size = config.map_size;
    options.sync = config.sync;
    options.sync_interval_ms = config.sync_interval_ms;
    options.max_devices_per_group = config.max_devices_per_group;
    options.reserve_percent = config.reserve_percent;
    return options;
}

Store::Impl::Impl(const StoreOptions& opts) : options(opts) {
    const std::string& path = options.path;
    if (!options.read_only) {
        try {
            file_modes::create_folders(path);
        } catch (const std::system_error& e) {
            throw StoreError(StoreErrc::unavailable, "store " + path + ": cannot create it: " + e.what());
        }
    }
    FileIdentity identity[2];
    bool existed = false;
    safe_open::Folder folder;
    try {
        folder = safe_open::open_folder(path);
        if (auto why = file_modes::writable_by_others(folder.fd.get(), path))
            throw StoreError(StoreErrc::unavailable, "store " + path + ": " + *why);
        existed = prepare_environment_files(folder, options.read_only, identity);
    } catch (const safe_open::UnsafeFile& e) {
        throw unsafe(e);
    }
    MDB_env* raw = nullptr;
    lmdb::check(mdb_env_create(&raw), "create environment", path);
    env.reset(raw);
    lmdb::check(mdb_env_set_maxdbs(env.get(), 16), "set maxdbs", path);
    // Every nginx worker thread, the sender and the CLI may hold a reader slot at once.
    lmdb::check(mdb_env_set_maxreaders(env.get(), 1024), "set maxreaders", path);

    // A new environment gets the configured size. An existing one keeps its own size unless the
    // configured one is bigger: shrinking below what another process mapped would fail its writes.
    if (!existed) lmdb::check(mdb_env_set_mapsize(env.get(), options.map_size), "set map size", path);

    // MDB_NOTLS: read transactions are not tied to a thread (nginx's thread pool writes while the
    // event loop reads). MDB_NOSYNC with sync: interval, where the flusher bounds the loss.
    // MDB_NOMETASYNC with sync: always: the meta page is fsynced after the writer lock is released
    // and before the write returns (commit_sync), so two writers' fsyncs overlap.
    unsigned flags = MDB_NOTLS;
    if (options.read_only) flags |= MDB_RDONLY;
    if (options.sync == SyncMode::interval && !options.read_only) flags |= MDB_NOSYNC;
    if (commit_sync.enabled()) flags |= MDB_NOMETASYNC;
    lmdb::check(mdb_env_open(env.get(), path.c_str(), flags, file_modes::kFile), "open", path);
    verify_environment_files(folder, env.get(), identity);

    if (existed && !options.read_only) {
        MDB_envinfo info{};
        lmdb::check(mdb_env_info(env.get(), &info), "environment info", path);
        if (options.map_size > info.me_mapsize) {
            lmdb::check(mdb_env_set_mapsize(env.get(), options.map_size), "grow map", path);
        }
    }

    // Reader slots left behind by crashed processes would pin old pages forever.
    int stale = 0;
    lmdb::check(mdb_reader_check(env.get(), &stale), "reader check", path);
    if (stale > 0) std::fprintf(stderr, "pushsync store %s: cleared %d stale reader slot(s)\n", path.c_str(), stale);

    // Most opens find the store initialised: a read transaction then suffices, so a worker
    // starting never waits for another process's write transaction.
    if (!open_databases(false)) {
        if (options.read_only) throw StoreError(StoreErrc::unavailable, "store " + path + ": not initialised");
        open_databases(true);
    }

    if (options.sync == SyncMode::interval && !options.read_only) {
        flusher = std::jthread([this](std::stop_token stop) {
            std::mutex mutex;
            std::condition_variable_any wake;
            std::unique_lock lock(mutex);
            while (!stop.stop_requested()) {
                wake.wait_for(lock, stop, std::chrono::milliseconds(options.sync_interval_ms), [] { return false; });
                int rc = mdb_env_sync(env.get(), 1);
                if (rc != MDB_SUCCESS) {
                    std::fprintf(stderr, "pushsync store %s: background sync failed: %s\n", options.path.c_str(),
                                 mdb_strerror(rc));
                }
            }
        });
    }
}

bool Store::Impl::open_databases(bool create) {
    const std::string& path = options.path;
    lmdb::Txn txn(env.get(), gate, create, path, &commit_sync);
    std::pair<MDB_dbi*, const char*> databases[] = {{&devices, "devices"}, {&groups, "groups"},
                                                    {&group_counts, "group_counts"}, {&meta, "meta"},
                                                    {&outbox, "outbox"}, {&sent, "sent"}};
    for (auto [dbi, name] : databases) {
        auto opened = open_dbi(txn, name, create);
        if (!opened) return false;
        *dbi = *opened;
    }
    // A store written before the statistics existed lacks their databases: a writer adds them,
    // filling the device counts from the devices once; a read-only open goes on without them.
    std::pair<MDB_dbi*, const char*> statistics_databases[] = {
        {&device_stats, "device_stats"}, {&app_counts, "app_counts"}, {&events, "events"}};
    bool counts_missing = false;
    statistics = true;
    for (auto [dbi, name] : statistics_databases) {
        auto opened = open_dbi(txn, name, false);
        if (!opened && !create) {
            if (!options.read_only) return false;
            statistics = false;
            continue;
        }
        if (!opened) {
            counts_missing = counts_missing || dbi == &app_counts;
            opened = open_dbi(txn, name, true);
        }
        *dbi = *opened;
    }
    if (counts_missing) rebuild_app_counts(txn);
    // The push budget's databases likewise: created by a writer, absent for a read-only open.
    std::pair<MDB_dbi*, const char*> budget_databases[] = {{&budgets, "device_budget"}, {&held, "held_pushes"}};
    budget = true;
    for (auto [dbi, name] : budget_databases) {
        auto opened = open_dbi(txn, name, false);
        if (!opened && !create) {
            if (!options.read_only) return false;
            budget = false;
            continue;
        }
        if (!opened) opened = open_dbi(txn, name, true);
        *dbi = *opened;
    }
    auto version = txn.find(meta, codec::schema_version_key);
    std::uint32_t stored = 0;
    if (version) {
        stored = codec::decode_u32(*version, "schema version");
        if (stored > codec::schema_version) {
            throw StoreError(StoreErrc::newer_schema,
                             "store " + path + ": written by a newer pushsync (schema " + std::to_string(stored) +
                                 ", this build reads up to " + std::to_string(codec::schema_version) + ")");
        }
    } else if (!create) {
        return false;
    }
    if (!create && !options.read_only && stored != codec::schema_version) return false;  // upgraded below
    if (!open_listing_order(txn, create)) return false;
    if (create && stored != codec::schema_version) {
        txn.put(meta, codec::schema_version_key, codec::encode_u32(codec::schema_version));
    }
    // Committing (even a read transaction) keeps the database handles for later transactions.
    txn.commit();
    return true;
}

bool Store::Impl::open_listing_order(lmdb::Txn& txn, bool create) {
    auto opened = open_dbi(txn, "group_order", create);
    if (opened) group_order = *opened;
    // A copy: a view into a write transaction's pages may move with its next write.
    std::optional<std::string> secret;
    if (auto found = txn.find(meta, codec::list_secret_key)) secret.emplace(*found);
    if (secret && secret->size() != codec::list_secret_bytes) {
        throw StoreError(StoreErrc::corrupt, "store " + options.path + ": the listing secret is " +
                                                 std::to_string(secret->size()) + " bytes, not " +
                                                 std::to_string(codec::list_secret_bytes));
    }
    // Kept in step with `groups` by every write of this version. A count that differs means a
    // writer of version 1 wrote since (a process still running through an upgrade): the next
    // writer to open the store fills the order again, so a listing never misses a device.
    const bool in_step = opened && secret && txn.entries(groups) == txn.entries(group_order);
    if (!create) {
        if (!in_step && !options.read_only) return false;
        keyed_order = opened && secret;
        if (keyed_order) list_secret.assign(*secret);
    }
    if (create) {
        if (!secret) {
            std::string made(codec::list_secret_bytes, '\0');
            if (RAND_bytes(reinterpret_cast<unsigned char*>(made.data()), static_cast<int>(made.size())) != 1) {
                throw StoreError(StoreErrc::unavailable, "store " + options.path + ": no random source for the listing secret");
            }
            txn.put(meta, codec::list_secret_key, made);
            secret = std::move(made);
        }
        if (!in_step) {
            // Fills the order from `groups`, in this one transaction: a store of version 1 upgraded in
            // place, or one a version 1 writer changed since.
            lmdb::check(mdb_drop(txn.get(), group_order, 0), "empty database group_order", options.path);
            // Written while walking `groups`: a cursor of one database is not moved by writes to another.
            lmdb::Cursor cursor(txn, groups);
            std::size_t made = 0;
            for (bool more = cursor.first(); more; more = cursor.next(), ++made) {
                const auto [group, token] = codec::split_group_key(cursor.key());
                txn.put(group_order, codec::order_key(group, *secret, token), token);
            }
            if (made > 0) {
                std::fprintf(stderr, "pushsync store %s: listing order made for %zu device(s)\n", options.path.c_str(), made);
            }
        }
        keyed_order = true;
        list_secret.assign(*secret);
    }
    if (keyed_order) {
        cursor_key = codec::derived_key(list_secret, "pushsync listing cursor");
    } else {
        cursor_key.assign(codec::list_secret_bytes, '\0');
        if (RAND_bytes(reinterpret_cast<unsigned char*>(cursor_key.data()), static_cast<int>(cursor_key.size())) != 1) {
            throw StoreError(StoreErrc::unavailable, "store " + options.path + ": no random source");
        }
    }
    return true;
}

std::string Store::Impl::order_key(std::string_view group, std::string_view token) const {
    return codec::order_key(group, list_secret, token);
}

Store::Impl::~Impl() {
    if (flusher.joinable()) {
        flusher.request_stop();
        flusher.join();
        mdb_env_sync(env.get(), 1);  // what the last interval had not flushed yet
    }
}

std::optional<Device> Store::Impl::find_device(const lmdb::Txn& txn, std::string_view token) const {
    auto record = txn.find(devices, token);
    if (!record) return std::nullopt;
    return codec::decode_device(token, *record);
}

void Store::Impl::add_to_group(lmdb::Txn& txn, std::string_view group, std::string_view token) const {
    if (!txn.put_if_absent(groups, codec::group_key(group, token), {})) return;
    txn.put(group_order, order_key(group, token), token);
    auto count = txn.find(group_counts, group);
    std::uint64_t devices_now = count ? codec::decode_u64(*count, "group count") + 1 : 1;
    txn.put(group_counts, group, codec::encode_u64(devices_now));
}

void Store::Impl::remove_from_group(lmdb::Txn& txn, std::string_view group, std::string_view token) const {
    if (!txn.erase(groups, codec::group_key(group, token))) return;
    txn.erase(group_order, order_key(group, token));
    auto count = txn.find(group_counts, group);
    std::uint64_t devices_before = count ? codec::decode_u64(*count, "group count") : 0;
    // A group exists while it has a device (docs/api.md): its count goes with its last device.
    if (devices_before <= 1) {
        txn.erase(group_counts, group);
    } else {
        txn.put(group_counts, group, codec::encode_u64(devices_before - 1));
    }
}

void Store::Impl::put_device(lmdb::Txn& txn, const Device& device, const std::optional<Device>& previous) const {
    if (previous && previous->group != device.group) remove_from_group(txn, previous->group, device.token);
    if (!previous || previous->group != device.group) add_to_group(txn, device.group, device.token);
    if (!previous || previous->bundle_id != device.bundle_id || previous->environment != device.environment ||
        previous->platform != device.platform) {
        if (previous) count_app(txn, *previous, -1);
        count_app(txn, device, +1);
    }
    txn.put(devices, device.token, codec::encode_device(device));
}

void Store::Impl::remove_device(lmdb::Txn& txn, const Device& device) const {
    txn.erase(devices, device.token);
    remove_from_group(txn, device.group, device.token);
    txn.erase(sent, device.token);
    count_app(txn, device, -1);
    if (statistics) txn.erase(device_stats, device.token);
    if (budget) txn.erase(budgets, device.token);  // a held push of it finds no device and is dropped
}

// --- Store ---------------------------------------------------------------------------------

Store::Store(const StoreOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Store::~Store() = default;

const StoreOptions& Store::options() const noexcept {
    return impl_->options;
}

void Store::Impl::check_reserve() const {
    if (options.reserve_percent == 0) return;
    MDB_envinfo info{};
    lmdb::check(mdb_env_info(env.get(), &info), "environment info", options.path);
    MDB_stat stat{};
    lmdb::check(mdb_env_stat(env.get(), &stat), "environment stat", options.path);
    const std::uint64_t pages = info.me_mapsize / stat.ms_psize;
    // Free: the pages past the last one ever used, and those LMDB keeps on its free list for reuse
    // (so a store that shrank takes registrations again).
    std::uint64_t free_pages = pages > info.me_last_pgno + 1 ? pages - (info.me_last_pgno + 1) : 0;
    auto snapshot = read();
    lmdb::Cursor freelist(snapshot, 0);  // FREE_DBI: txn id -> [count, page numbers...]
    for (bool more = freelist.first(); more; more = freelist.next()) {
        std::size_t count = 0;
        if (freelist.value().size() >= sizeof count) std::memcpy(&count, freelist.value().data(), sizeof count);
        free_pages += count;
    }
    if (free_pages * 100 < pages * options.reserve_percent) {
        throw StoreError(StoreErrc::full, "store " + options.path + ": less than " +
                                              std::to_string(options.reserve_percent) +
                                              "% of the map is free (store.reserve_percent): registrations refused");
    }
}

bool Store::Impl::group_is_full(const lmdb::Txn& txn, std::string_view group) const {
    if (options.max_devices_per_group == 0) return false;
    const auto count = txn.find(group_counts, group);
    return count && codec::decode_u64(*count, "group count") >= options.max_devices_per_group;
}

std::vector<RegisterResult> Store::register_devices(std::span<const Registration> batch, std::int64_t now_ms,
                                                    DeferredSync* deferred) {
    std::vector<RegisterResult> results;
    results.reserve(batch.size());
    auto txn = impl_->write();
    impl_->check_reserve();
    // In order, inside one transaction: a token twice in a batch sees its own first write.
    for (const auto& registration : batch) {
        auto previous = impl_->find_device(txn, registration.token);
        RegisterResult result;
        if ((!previous || previous->group != registration.group) && impl_->group_is_full(txn, registration.group)) {
            result.group_full = true;
            result.device.token = registration.token;
            result.device.group = registration.group;
            results.push_back(std::move(result));
            continue;
        }
        result.created = !previous;
        Device& device = result.device;
        device.token = registration.token;
        device.group = registration.group;
        device.platform = registration.platform;
        device.bundle_id = registration.bundle_id;
        device.environment = registration.environment;
        device.app_version = registration.app_version;
        device.registered_at_ms = previous ? previous->registered_at_ms : now_ms;
        device.last_seen_ms = now_ms;
        if (previous && previous->group != registration.group) result.moved_from = previous->group;
        impl_->put_device(txn, device, previous);
        results.push_back(std::move(result));
    }
    if (deferred != nullptr) deferred->record(*this, txn.commit_unsynced());
    else txn.commit();
    return results;
}

RegisterResult Store::register_device(const Registration& registration, std::int64_t now_ms) {
    return std::move(register_devices(std::span(&registration, 1), now_ms).front());
}

bool Store::unregister_device(std::string_view group, std::string_view token) {
    std::pair<std::string, std::string> one{std::string(group), std::string(token)};
    return unregister_devices(std::span(&one, 1)).front();
}

std::vector<bool> Store::unregister_devices(std::span<const std::pair<std::string, std::string>> group_token,
                                            DeferredSync* deferred) {
    std::vector<bool> results;
    results.reserve(group_token.size());
    auto txn = impl_->write();
    for (const auto& [group, token] : group_token) {
        auto device = impl_->find_device(txn, token);
        bool member = device && device->group == group;
        if (member) impl_->remove_device(txn, *device);
        results.push_back(member);
    }
    if (deferred != nullptr) deferred->record(*this, txn.commit_unsynced());
    else txn.commit();
    return results;
}

std::optional<Device> Store::get_device(std::string_view token) const {
    auto txn = impl_->read();
    return impl_->find_device(txn, token);
}

std::vector<Device> Store::list_group(std::string_view group) const {
    std::vector<Device> devices;
    for_each_in_group(group, [&](const Device& device) { devices.push_back(device); });
    return devices;
}

void Store::for_each_in_group(std::string_view group, const std::function<void(const Device&)>& visit) const {
    for_each_in_group(group, "", 0, visit);
}

std::optional<std::string> Store::for_each_in_group(std::string_view group, std::string_view after,
                                                   std::size_t limit,
                                                   const std::function<void(const Device&)>& visit) const {
    auto txn = impl_->read();
    lmdb::Cursor cursor(txn, impl_->groups);
    const std::string prefix = codec::group_prefix(group);
    bool more = cursor.seek(codec::group_key(group, after));
    if (more && !after.empty() && cursor.key().substr(prefix.size()) == after) more = cursor.next();
    std::string last;
    for (std::size_t seen = 0; more && cursor.key().starts_with(prefix); more = cursor.next(), ++seen) {
        // Another device after a full page: the caller goes on after the page's last one.
        if (seen == limit && limit != 0) return last;
        last.assign(cursor.key().substr(prefix.size()));
        if (auto device = impl_->find_device(txn, last)) visit(*device);
    }
    return std::nullopt;
}

std::optional<std::string> Store::list_page(std::string_view group, std::string_view after, std::size_t limit,
                                            const std::function<void(const Device&)>& visit) const {
    if (!impl_->keyed_order) return for_each_in_group(group, after, limit, visit);
    auto txn = impl_->read();
    lmdb::Cursor cursor(txn, impl_->group_order);
    const std::string prefix = codec::group_prefix(group);
    const std::string start = after.empty() ? prefix : impl_->order_key(group, after);
    bool more = cursor.seek(start);
    if (more && !after.empty() && cursor.key() == start) more = cursor.next();
    std::string last;
    for (std::size_t seen = 0; more && cursor.key().starts_with(prefix); more = cursor.next(), ++seen) {
        if (seen == limit && limit != 0) return last;
        last.assign(cursor.value());
        if (auto device = impl_->find_device(txn, last)) visit(*device);
    }
    return std::nullopt;
}

const std::string& Store::cursor_key() const noexcept {
    return impl_->cursor_key;
}

GroupInfo Store::group_info(std::string_view group, std::string_view origin) const {
    auto txn = impl_->read();
    GroupInfo info;
    if (auto count = txn.find(impl_->group_counts, group)) {
        info.devices = static_cast<std::size_t>(codec::decode_u64(*count, "group count"));
    }
    if (!origin.empty()) info.origin_member = txn.find(impl_->groups, codec::group_key(group, origin)).has_value();
    return info;
}

std::vector<GroupCount> Store::list_groups(std::size_t limit) const {
    std::vector<GroupCount> result;
    auto txn = impl_->read();
    lmdb::Cursor cursor(txn, impl_->group_counts);
    for (bool more = cursor.first(); more && (limit == 0 || result.size() < limit); more = cursor.next()) {
        result.push_back({std::string(cursor.key()),
                          static_cast<std::size_t>(codec::decode_u64(cursor.value(), "group count"))});
    }
    return result;
}

PruneOutcome Store::prune_unregistered(std::string_view token, Environment environment, std::int64_t apns_timestamp_ms) {
    auto txn = impl_->write();
    auto device = impl_->find_device(txn, token);
    if (!device) return PruneOutcome::not_found;
    if (device->environment != environment) return PruneOutcome::kept_other_environment;
    // The 410 speaks of the token as APNs knew it then; a registration since proves it alive.
    if (device->last_seen_ms > apns_timestamp_ms) return PruneOutcome::kept_reregistered;
    impl_->remove_device(txn, *device);
    txn.commit();
    return PruneOutcome::removed;
}

PruneOutcome Store::prune_rejected(std::string_view token, Environment environment) {
    auto txn = impl_->write();
    auto device = impl_->find_device(txn, token);
    if (!device) return PruneOutcome::not_found;
    if (device->environment != environment) return PruneOutcome::kept_other_environment;
    impl_->remove_device(txn, *device);
    txn.commit();
    return PruneOutcome::removed;
}

void Store::outbox_put(std::span<const OutboxEntry> entries) {
    auto txn = impl_->write();
    for (const auto& entry : entries) {
        txn.put_if_absent(impl_->outbox, codec::outbox_key(entry.id), codec::encode_outbox(entry));
    }
    txn.commit();
}

std::vector<OutboxEntry> Store::outbox_load(std::size_t limit) const {
    return outbox_load_range(0, std::numeric_limits<std::uint64_t>::max(),
                             limit == 0 ? std::numeric_limits<std::size_t>::max() : limit);
}

std::vector<OutboxEntry> Store::outbox_load_range(std::uint64_t from, std::uint64_t below, std::size_t limit) const {
    std::vector<OutboxEntry> entries;
    if (from >= below || limit == 0) return entries;
    auto txn = impl_->read();
    lmdb::Cursor cursor(txn, impl_->outbox);
    for (bool more = cursor.seek(codec::outbox_key(from)); more && entries.size() < limit; more = cursor.next()) {
        const std::uint64_t id = codec::outbox_id(cursor.key());
        if (id >= below) break;
        entries.push_back(codec::decode_outbox(id, cursor.value()));
    }
    return entries;
}

void Store::outbox_remove(std::span<const std::uint64_t> ids) {
    auto txn = impl_->write();
    for (auto id : ids) txn.erase(impl_->outbox, codec::outbox_key(id));
    txn.commit();
}

void Store::write_loop_batch(const LoopWrites& writes) {
    if (writes.token_tail.empty() && writes.outcomes.empty() && writes.events.empty() && writes.budget.empty() &&
        writes.outbox_removed.empty()) {
        return;
    }
    auto txn = impl_->write();
    impl_->write_delivery(txn, writes.token_tail, writes.outcomes, writes.events);
    impl_->write_budget(txn, writes.budget);
    for (auto id : writes.outbox_removed) txn.erase(impl_->outbox, codec::outbox_key(id));
    txn.commit();
}

std::optional<std::string> Store::last_sent_tail(std::string_view token) const {
    auto txn = impl_->read();
    auto tail = txn.find(impl_->sent, token);
    if (!tail) return std::nullopt;
    return std::string(*tail);
}

std::vector<bool> Store::were_sent(std::span<const std::pair<std::string_view, std::string_view>> token_tail) const {
    std::vector<bool> sent(token_tail.size(), false);
    if (token_tail.empty()) return sent;
    auto txn = impl_->read();
    for (std::size_t i = 0; i < token_tail.size(); ++i) {
        const auto tail = txn.find(impl_->sent, token_tail[i].first);
        sent[i] = tail && *tail == token_tail[i].second;
    }
    return sent;
}

void Store::record_sent(std::span<const std::pair<std::string, std::string>> token_tail) {
    auto txn = impl_->write();
    for (const auto& [token, tail] : token_tail) txn.put(impl_->sent, token, tail);
    txn.commit();
}

void Store::sync() {
    if (impl_->options.sync != SyncMode::interval || impl_->options.read_only) return;
    lmdb::check(mdb_env_sync(impl_->env.get(), 1), "sync", impl_->options.path);
}

unsigned Store::environment_flags() const {
    unsigned flags = 0;
    lmdb::check(mdb_env_get_flags(impl_->env.get(), &flags), "environment flags", impl_->options.path);
    return flags;
}

void Store::sync_through(std::uint64_t commit) {
    impl_->commit_sync.sync_through(commit, impl_->env.get(), impl_->gate, impl_->options.path);
}

void DeferredSync::record(Store& store, std::uint64_t commit) noexcept {
    if (commit == 0) return;
    store_ = &store;
    commit_ = std::max(commit_, commit);
}

void DeferredSync::wait() {
    if (store_ != nullptr) store_->sync_through(commit_);
}

std::uint64_t Store::commit_syncs() const noexcept {
    return impl_->commit_sync.syncs();
}

}  // namespace pushsync
