// SPDX-License-Identifier: BSD-2-Clause
// The metrics file (shared/metrics/file.hpp): creating and adding to it in the sender, reading it in
// nginx. Cells are plain integers in a shared mapping, accessed with std::atomic_ref.
#include "shared/metrics/file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>

#include "shared/file_modes.hpp"
#include "shared/safe_open.hpp"

namespace pushsync::metrics {
namespace {


std::uint64_t load(const std::uint64_t& cell) noexcept {
    return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(cell)).load(std::memory_order_relaxed);
}
std::uint32_t load_published(const std::uint32_t& count) noexcept {
    return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(count)).load(std::memory_order_acquire);
}
void add(std::uint64_t& cell, std::uint64_t n) noexcept {
    std::atomic_ref<std::uint64_t>(cell).fetch_add(n, std::memory_order_relaxed);
}
void publish(std::uint32_t& count, std::uint32_t value) noexcept {
    std::atomic_ref<std::uint32_t>(count).store(value, std::memory_order_release);
}

template <std::size_t N>
void observe(HistogramCells<N>& cells, const std::array<std::uint64_t, N>& bounds, std::int64_t micros) noexcept {
    const auto value = static_cast<std::uint64_t>(std::max<std::int64_t>(0, micros));
    const auto bucket = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
    add(cells.buckets[bucket], 1);
    add(cells.sum_us, value);
}

template <std::size_t N>
Histogram snapshot(const HistogramCells<N>& cells) {
    Histogram out;
    out.buckets.reserve(N + 1);
    for (const auto& bucket : cells.buckets) out.buckets.push_back(load(bucket));
    out.sum_us = load(cells.sum_us);
    return out;
}

std::string_view text(const char* chars, std::size_t length, std::size_t capacity) noexcept {
    return {chars, std::min(length, capacity)};
}

bool header_ok(const MetricsFile& file) noexcept {
    return std::memcmp(file.magic, file_magic, sizeof file_magic) == 0 && file.version == file_version &&
           file.size == sizeof(MetricsFile) && file.app_cells == app_capacity &&
           file.response_cells == response_capacity;
}

std::string system_error(const std::string& what, const std::string& path) {
    return "metrics file " + path + ": " + what + ": " + std::strerror(errno);
}

using safe_open::Place;
using safe_open::place_of;

MetricsFile* map(int fd, int protection) {
    void* address = ::mmap(nullptr, sizeof(MetricsFile), protection, MAP_SHARED, fd, 0);
    return address == MAP_FAILED ? nullptr : static_cast<MetricsFile*>(address);
}

std::string app_key(std::string_view bundle_id, Environment environment, Platform platform) {
    std::string key(bundle_id);
    key.push_back('\0');
    key.push_back(static_cast<char>(environment));
    key.push_back(static_cast<char>(platform));
    return key;
}

std::uint8_t cell_byte(Environment environment, Platform platform) noexcept {
    return static_cast<std::uint8_t>(static_cast<std::uint8_t>(environment) | (static_cast<std::uint8_t>(platform) << 4));
}

// The cell's environment and platform, or nullopt for a byte no writer of this layout makes.
std::optional<std::pair<Environment, Platform>> cell_parts(std::uint8_t byte) noexcept {
    const std::uint8_t environment = byte & 0x0f;
    const std::uint8_t platform = byte >> 4;
    if (environment > static_cast<std::uint8_t>(Environment::sandbox)) return std::nullopt;
    if (platform > static_cast<std::uint8_t>(Platform::fcm)) return std::nullopt;
    return std::pair{static_cast<Environment>(environment), static_cast<Platform>(platform)};
}

std::string response_key(std::uint32_t app, std::string_view status, std::string_view reason) {
    std::string key = std::to_string(app);
    key.push_back('\0');
    key.append(status);
    key.push_back('\0');
    key.append(reason);
    return key;
}

}  // namespace

std::string path_beside_queue(const std::string& queue_path) { return queue_path + ".metrics"; }

std::uint64_t Histogram::count() const noexcept {
    std::uint64_t total = 0;
    for (const auto bucket : buckets) total += bucket;
    return total;
}

namespace {

// The first `length` bytes of the file at `path` into `copy`; false with `error` set when the file
// is absent, not a regular file, shorter, or not a metrics file of this version.
bool copy_file(const std::string& path, MetricsFile& copy, std::size_t length, std::string& error) {
    safe_open::Fd file;
    struct stat st {};
    try {
        const Place place = place_of(path);
        auto opened = safe_open::open_existing(place.folder, place.name, O_RDONLY);
        if (!opened) {
            error = "no metrics file yet (the sender has not started)";
            return false;
        }
        st = opened->st;
        file = std::move(opened->fd);
    } catch (const safe_open::UnsafeFile& e) {
        error = e.problem_kind() == safe_open::Problem::system && e.error() == ENOENT
                    ? "no metrics file yet (the sender has not started)"
                    : std::string("metrics file ") + e.what();
        return false;
    }
    // Copied with pread, not mapped: a file cut short under a mapping would fault nginx's worker
    // (SIGBUS); a short read is just an error here. The header's counts come first in the file,
    // so every cell they publish was complete before it was copied.
    auto* bytes = reinterpret_cast<char*>(&copy);
    std::size_t got = 0;
    while (got < length) {
        const ssize_t n = ::pread(file.get(), bytes + got, length - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got != length || static_cast<std::uint64_t>(st.st_size) < sizeof(MetricsFile) || !header_ok(copy)) {
        error = "metrics file " + path + ": not a metrics file of this version";
        return false;
    }
    return true;
}

HoldFigures hold_figures(const HoldCells& cells) noexcept {
    return HoldFigures{load(cells.held), load(cells.merged), load(cells.released), load(cells.dropped),
                       load(cells.waiting)};
}

}  // namespace

std::optional<HoldFigures> read_hold_figures(const std::string& path, std::string& error) {
    auto copy = std::make_unique<MetricsFile>();
    if (!copy_file(path, *copy, offsetof(MetricsFile, holds) + sizeof(HoldCells), error)) return std::nullopt;
    return hold_figures(copy->holds);
}

std::optional<Snapshot> read_metrics(const std::string& path, std::string& error) {
    auto copy = std::make_unique<MetricsFile>();
    if (!copy_file(path, *copy, sizeof(MetricsFile), error)) return std::nullopt;
    const MetricsFile* copied = copy.get();

    Snapshot out;
    out.notify_to_push = snapshot(copied->notify_to_push);
    out.holds = hold_figures(copied->holds);
    out.fcm_token_fetches = load(copied->fcm_tokens.fetches);
    out.fcm_token_fetch_failures = load(copied->fcm_tokens.failures);
    const std::uint32_t apps = std::min(load_published(copied->apps), app_capacity);
    // Each cell of the app table, or nullopt for one that does not check out.
    std::vector<std::optional<std::size_t>> app_index(apps);
    for (std::uint32_t i = 0; i < apps; ++i) {
        const AppCell& cell = copied->app[i];
        const auto parts = cell_parts(cell.environment);
        if (!parts) continue;
        Snapshot::App app;
        app.bundle_id = text(cell.bundle_id, cell.bundle_id_length, max_bundle_id);
        app.environment = parts->first;
        app.platform = parts->second;
        app.credential_expiry_s = static_cast<std::int64_t>(
            load(reinterpret_cast<const std::uint64_t&>(cell.credential_expiry_s)));
        app.request = snapshot(cell.request);
        app_index[i] = out.apps.size();
        out.apps.push_back(std::move(app));
    }
    const std::uint32_t responses = std::min(load_published(copied->responses), response_capacity);
    for (std::uint32_t i = 0; i < responses; ++i) {
        const ResponseCell& cell = copied->response[i];
        Snapshot::Response response;
        const std::uint32_t app = cell.app;
        if (app != no_app) {
            if (app >= apps || !app_index[app]) continue;
            const Snapshot::App& known = out.apps[*app_index[app]];
            response.bundle_id = known.bundle_id;
            response.environment = to_string(known.environment);
            response.platform = known.platform;
        }
        response.status = text(cell.status, cell.status_length, max_status);
        response.reason = text(cell.reason, cell.reason_length, max_reason);
        response.count = load(cell.count);
        out.responses.push_back(std::move(response));
    }
    return out;
}

// --- the writer ----------------------------------------------------------------------------

std::unique_ptr<MetricsWriter> MetricsWriter::open(const std::string& path) {
    // An existing file of this layout carries on (counters stay monotonic across restarts). A
    // planted link, a file with two names or another user's is refused, never replaced: it says
    // someone else writes in the queue's folder.
    std::optional<Place> place;
    std::optional<safe_open::Opened> opened;
    try {
        place = place_of(path);
        opened = safe_open::open_existing(place->folder, place->name, O_RDWR);
    } catch (const safe_open::UnsafeFile& e) {
        throw MetricsError(std::string("metrics file ") + e.what());
    }
    safe_open::Fd existing;
    if (opened) existing = std::move(opened->fd);
    if (existing.get() >= 0) {
        struct stat st {};
        // One that others may write is replaced, not trusted (the sender's user and nginx's share
        // the group: file_modes.hpp).
        if (::fstat(existing.get(), &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_size == static_cast<off_t>(sizeof(MetricsFile)) &&
            !file_modes::writable_by_others(existing.get(), path)) {
            // One writer: a second sender (refused by the queue a moment later) must not add cells.
            if (::flock(existing.get(), LOCK_EX | LOCK_NB) != 0) {
                throw MetricsError("metrics file " + path + ": another pushsync-sender writes it");
            }
            if (MetricsFile* file = map(existing.get(), PROT_READ | PROT_WRITE); file && header_ok(*file)) {
                auto writer = std::make_unique<MetricsWriter>(Passkey{}, existing.get(), file);
                existing.release();  // the writer owns it now
                return writer;
            } else if (file) {
                ::munmap(file, sizeof(MetricsFile));
            }
        }
    }
    // A new file, complete before it appears at the path: readers never see half a header. Made
    // under an unpredictable name (a link planted at a guessable one would be written through).
    std::optional<safe_open::TempFile> temp;
    try {
        temp.emplace(place->folder, place->name, file_modes::kFile);
    } catch (const safe_open::UnsafeFile& e) {
        throw MetricsError(std::string("metrics file ") + e.what());
    }
    safe_open::Fd fresh{::dup(temp->fd())};
    if (fresh.get() < 0 || ::ftruncate(fresh.get(), sizeof(MetricsFile)) != 0 || ::flock(fresh.get(), LOCK_EX | LOCK_NB) != 0)
        throw MetricsError(system_error("size", place->folder.path_of(temp->name())));
    MetricsFile* file = map(fresh.get(), PROT_READ | PROT_WRITE);
    if (file == nullptr) throw MetricsError(system_error("map", place->folder.path_of(temp->name())));
    std::memcpy(file->magic, file_magic, sizeof file_magic);
    file->version = file_version;
    file->size = sizeof(MetricsFile);
    file->app_cells = app_capacity;
    file->response_cells = response_capacity;
    try {
        temp->place_over(place->name);
    } catch (const safe_open::UnsafeFile& e) {
        ::munmap(file, sizeof(MetricsFile));
        throw MetricsError(std::string("metrics file ") + e.what());
    }
    auto writer = std::make_unique<MetricsWriter>(Passkey{}, fresh.get(), file);
    fresh.release();  // the writer owns it now
    return writer;
}

MetricsWriter::MetricsWriter(Passkey, int fd, MetricsFile* file) : fd_(fd), file_(file) {
    // The cells an earlier sender made, so their counts carry on. Only this process writes the
    // file now (the queue admits one sender), and it wrote or checked every cell it trusts here.
    const std::uint32_t apps = std::min(file_->apps, app_capacity);
    for (std::uint32_t i = 0; i < apps; ++i) {
        const AppCell& cell = file_->app[i];
        const auto parts = cell_parts(cell.environment);
        if (!parts) continue;
        apps_.emplace(app_key(text(cell.bundle_id, cell.bundle_id_length, max_bundle_id), parts->first, parts->second), i);
    }
    file_->apps = apps;
    const std::uint32_t responses = std::min(file_->responses, response_capacity);
    for (std::uint32_t i = 0; i < responses; ++i) {
        const ResponseCell& cell = file_->response[i];
        responses_.emplace(response_key(cell.app, text(cell.status, cell.status_length, max_status),
                                        text(cell.reason, cell.reason_length, max_reason)),
                           i);
    }
    file_->responses = responses;
}

MetricsWriter::~MetricsWriter() {
    ::munmap(file_, sizeof(MetricsFile));
    ::close(fd_);
}

std::uint32_t MetricsWriter::app(std::string_view bundle_id, Environment environment, Platform platform) {
    std::string key = app_key(bundle_id, environment, platform);
    if (const auto it = apps_.find(key); it != apps_.end()) return it->second;
    const std::uint32_t index = file_->apps;
    if (index >= app_capacity || bundle_id.size() > max_bundle_id) return no_app;
    AppCell& cell = file_->app[index];
    cell = AppCell{};
    cell.environment = cell_byte(environment, platform);
    cell.bundle_id_length = static_cast<std::uint8_t>(bundle_id.size());
    std::memcpy(cell.bundle_id, bundle_id.data(), bundle_id.size());
    publish(file_->apps, index + 1);
    apps_.emplace(std::move(key), index);
    return index;
}

void MetricsWriter::count_response(std::uint32_t app, std::string_view status, std::string_view reason) {
    status = status.substr(0, max_status);
    reason = reason.substr(0, max_reason);
    std::string key = response_key(app, status, reason);
    auto it = responses_.find(key);
    if (it == responses_.end()) {
        const std::uint32_t index = file_->responses;
        // The last cell takes whatever finds the table full, so a flood of odd reasons from APNs
        // can neither grow the file nor go uncounted.
        const bool overflow = index + 1 >= response_capacity;
        if (overflow) {
            key = response_key(no_app, "other", "other");
            it = responses_.find(key);
        }
        if (it == responses_.end()) {
            if (index >= response_capacity) return;
            ResponseCell& cell = file_->response[index];
            cell = ResponseCell{};
            cell.app = overflow ? no_app : app;
            const std::string_view cell_status = overflow ? "other" : status;
            const std::string_view cell_reason = overflow ? "other" : reason;
            cell.status_length = static_cast<std::uint8_t>(cell_status.size());
            cell.reason_length = static_cast<std::uint8_t>(cell_reason.size());
            std::memcpy(cell.status, cell_status.data(), cell_status.size());
            std::memcpy(cell.reason, cell_reason.data(), cell_reason.size());
            publish(file_->responses, index + 1);
            it = responses_.emplace(std::move(key), index).first;
        }
    }
    add(file_->response[it->second].count, 1);
}

void MetricsWriter::observe_request(std::uint32_t app, std::int64_t micros) {
    if (app >= std::min(file_->apps, app_capacity)) return;
    observe(file_->app[app].request, request_bounds_us, micros);
}

void MetricsWriter::observe_notify_to_push(std::int64_t micros) {
    observe(file_->notify_to_push, notify_bounds_us, micros);
}

void MetricsWriter::set_credential_expiry(std::string_view bundle_id, std::int64_t unix_s) {
    for (const auto environment : {Environment::production, Environment::sandbox}) {
        const auto it = apps_.find(app_key(bundle_id, environment, Platform::apns));
        if (it == apps_.end()) continue;
        std::atomic_ref<std::int64_t>(file_->app[it->second].credential_expiry_s)
            .store(unix_s, std::memory_order_relaxed);
    }
}

void MetricsWriter::count_hold(HoldEvent event) noexcept {
    HoldCells& cells = file_->holds;
    switch (event) {
        case HoldEvent::held: add(cells.held, 1); break;
        case HoldEvent::merged: add(cells.merged, 1); break;
        case HoldEvent::released: add(cells.released, 1); break;
        case HoldEvent::dropped: add(cells.dropped, 1); break;
    }
}

void MetricsWriter::count_fcm_token_fetch(bool got_token) noexcept {
    add(file_->fcm_tokens.fetches, 1);
    if (!got_token) add(file_->fcm_tokens.failures, 1);
}

void MetricsWriter::set_waiting_pushes(std::uint64_t waiting) noexcept {
    std::atomic_ref<std::uint64_t>(file_->holds.waiting).store(waiting, std::memory_order_relaxed);
}

}  // namespace pushsync::metrics
