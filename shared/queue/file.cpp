// SPDX-License-Identifier: BSD-2-Clause
#include "shared/queue/file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <string_view>

#include "shared/file_modes.hpp"
#include "shared/queue/futex.hpp"
#include "shared/safe_open.hpp"

namespace pushsync::queue_file {

namespace ql = queue_layout;

Mapping::Mapping(Mapping&& other) noexcept : address_(other.address_), size_(other.size_) {
    other.address_ = nullptr;
    other.size_ = 0;
}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
    if (this != &other) {
        reset();
        address_ = other.address_;
        size_ = other.size_;
        other.address_ = nullptr;
        other.size_ = 0;
    }
    return *this;
}

Mapping::~Mapping() { reset(); }

void Mapping::reset() noexcept {
    if (address_ != nullptr) ::munmap(address_, size_);
    address_ = nullptr;
    size_ = 0;
}

namespace {

[[noreturn]] void fail(const std::string& path, std::string_view problem) {
    throw QueueError("queue file " + path + ": " + std::string(problem));
}

[[noreturn]] void fail_errno(const std::string& path, std::string_view doing) {
    const int err = errno;
    fail(path, std::string(doing) + ": " + std::strerror(err));
}

Mapping map_whole(const std::string& path, int fd, std::size_t size) {
    void* address = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (address == MAP_FAILED) fail_errno(path, "mmap");
    return Mapping(address, size);
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A temporary file beside the queue's name holding a complete, empty queue once start_at() has been
// called; unlinked on destruction unless it was moved into place.
class FreshFile {
public:
    FreshFile(const safe_open::Folder& folder, std::string_view name, const std::string& path, std::uint32_t capacity)
        : temp_(make_temp(folder, name, path)), capacity_(capacity) {
        const auto size = ql::file_size_for(capacity);
        // Zero bytes until start_at() writes every slot's state: no file begins at round 0.
        if (::ftruncate(temp_.fd(), static_cast<off_t>(size)) != 0) fail_errno(path, "cannot size it");
        Mapping header_map = map_whole(path, temp_.fd(), ql::kHeaderSize);
        auto* header = ::new (header_map.address()) ql::Header{};
        std::memcpy(header->magic, ql::kMagic, sizeof ql::kMagic);
        header->version = ql::kVersion;
        header->capacity = capacity;
        header->slot_size = ql::kSlotSize;
        header->header_size = ql::kHeaderSize;
        header->file_size = size;
        header->created_ms = now_ms();
    }
    FreshFile(const FreshFile&) = delete;
    FreshFile& operator=(const FreshFile&) = delete;

    // Makes the empty ring begin at `position`, a multiple of the capacity: every slot waits in
    // FREE of that position's round. May be called again before the file is put in place.
    void start_at(std::uint64_t position) {
        Mapping mapping = map_whole(temp_.name(), temp_.fd(), ql::file_size_for(capacity_));
        auto* header = static_cast<ql::Header*>(mapping.address());
        auto* slots = reinterpret_cast<ql::Slot*>(static_cast<char*>(mapping.address()) + ql::kHeaderSize);
        const auto free = ql::state(position >> std::countr_zero(capacity_), ql::kFree);
        for (std::uint32_t i = 0; i < capacity_; ++i) slots[i].state.store(free, std::memory_order_relaxed);
        header->producer_position.store(position, std::memory_order_relaxed);
        header->committed_position.store(position, std::memory_order_relaxed);
        header->read_position.store(position, std::memory_order_relaxed);
    }

    // Puts it at `name` only if nothing is there (renamed, so it never has two names): true if it won.
    bool link_if_absent(std::string_view name, const std::string& path) {
        try {
            return temp_.place_if_absent(name);
        } catch (const safe_open::UnsafeFile& e) {
            fail(path, e.problem());
        }
    }
    // Puts it at `name`, replacing what is there (a planted link is replaced, never followed).
    void rename_over(std::string_view name, const std::string& path) {
        try {
            temp_.place_over(name);
        } catch (const safe_open::UnsafeFile& e) {
            fail(path, e.problem());
        }
    }

private:
    static safe_open::TempFile make_temp(const safe_open::Folder& folder, std::string_view name, const std::string& path) {
        // nginx's workers and the sender (users of group pushsync) write it; nobody else may.
        try {
            return safe_open::TempFile(folder, name, file_modes::kFile);
        } catch (const safe_open::UnsafeFile& e) {
            fail(path, e.problem());
        }
    }

    safe_open::TempFile temp_;
    std::uint32_t capacity_;
};

// Positions from here on cannot be told apart in a slot's state word (round << 3 overflows in the
// smallest ring), and no real queue gets near them: 2^62 is 146,000 years at a million a second.
constexpr std::uint64_t kMaxPosition = std::uint64_t{1} << 62;

// Every check on what another process (or a disk, or a person) left at `path`.
void validate(const std::string& path, const ql::Header& h, std::uint64_t actual_size, std::uint32_t capacity) {
    if (std::memcmp(h.magic, ql::kMagic, sizeof ql::kMagic) != 0)
        fail(path, "not a pushsync queue (bad magic); corrupt or another program's file; `pushsyncctl queue reset` "
                   "re-creates it");
    if (h.version != ql::kVersion)
        fail(path, "queue layout version " + std::to_string(h.version) + ", this build reads version " +
                       std::to_string(ql::kVersion) + "; `pushsyncctl queue reset` re-creates it (its entries are lost)");
    if (h.header_size != ql::kHeaderSize || h.slot_size != ql::kSlotSize || !ql::valid_capacity(h.capacity))
        fail(path, "corrupt header (header size " + std::to_string(h.header_size) + ", slot size " +
                       std::to_string(h.slot_size) + ", capacity " + std::to_string(h.capacity) + ")");
    const auto expected = ql::file_size_for(h.capacity);
    if (actual_size != expected || h.file_size != expected)
        fail(path, "size is " + std::to_string(actual_size) + " bytes, a queue of capacity " +
                       std::to_string(h.capacity) + " is " + std::to_string(expected) + " bytes (truncated or corrupt)");
    if (capacity != 0 && h.capacity != capacity)
        fail(path, "capacity is " + std::to_string(h.capacity) + ", configured " + std::to_string(capacity) +
                       "; `pushsyncctl queue reset` re-creates it with the configured capacity");
    const auto produced = h.producer_position.load(std::memory_order_acquire);
    const auto committed = h.committed_position.load(std::memory_order_acquire);
    if (committed > produced || produced - committed > h.capacity || produced >= kMaxPosition)
        fail(path, "corrupt positions (committed " + std::to_string(committed) + ", produced " +
                       std::to_string(produced) + ", capacity " + std::to_string(h.capacity) + ")");
}

// The queue's folder and the file's name in it: every open is relative to the folder, never
// following a link planted under the name (safe_open.hpp); a folder that cannot be used fails
// as the queue's errors do.
using safe_open::Place;

Place place_of(const std::string& path) {
    try {
        return safe_open::place_of(path);
    } catch (const safe_open::UnsafeFile& e) {
        fail(path, e.problem());
    }
}

// Opens the file if it exists: Fd(-1) when it does not. A planted link, a file with another name
// or another user's file throws, unless `refuse` is false (`queue reset`, which replaces the name): then Fd(-1).
Fd open_existing_fd(const Place& place, const std::string& path, bool refuse = true) {
    try {
        auto opened = safe_open::open_existing(place.folder, place.name, O_RDWR);
        return opened ? Fd(opened->fd.release()) : Fd();
    } catch (const safe_open::UnsafeFile& e) {
        if (!refuse && e.problem_kind() != safe_open::Problem::system) return Fd();
        fail(path, e.problem());
    }
}

// The header of the file open as `fd`, mapped, when it carries our magic and layout version (its
// mappers may be running and must learn of a reset); an empty Mapping otherwise.
Mapping map_header_if_ours(const std::string& path, const Fd& fd) {
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) < ql::kHeaderSize)
        return {};
    Mapping mapping = map_whole(path, fd.get(), ql::kHeaderSize);
    const auto* header = static_cast<const ql::Header*>(mapping.address());
    if (std::memcmp(header->magic, ql::kMagic, sizeof ql::kMagic) != 0 || header->version != ql::kVersion) return {};
    return mapping;
}

// Whether the header's positions can be believed: the file passes every check open() makes.
bool trusted(const std::string& path, const Fd& fd, const ql::Header& header) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    try {
        validate(path, header, static_cast<std::uint64_t>(st.st_size), 0);
    } catch (const QueueError&) {
        return false;
    }
    return true;
}

std::uint64_t round_up(std::uint64_t position, std::uint32_t capacity) noexcept {
    return (position + capacity - 1) & ~std::uint64_t{capacity - 1};
}

// Where a file replacing one that handed out positions below `produced` starts: positions are the
// sender's outbox ids, which must never repeat at this path (a repeated id is taken for a
// redelivery and dropped, and recovery orders by id). A producer that checked `retired` just
// before it was set may still claim a position, but only below committed + capacity (and
// committed <= produced): one old ring beyond `produced` is out of its reach.
std::uint64_t start_after(std::uint64_t produced, std::uint32_t old_capacity, std::uint32_t capacity) noexcept {
    return round_up(produced + old_capacity, capacity);
}

// With no position to continue from (a first file, or one we cannot trust: what reset exists
// for), the Unix time in microseconds: positions grow by one per notify, far slower than one per
// microsecond since the epoch, so this lies above any position used at this path before. A first
// file needs it as much as a reset one: on tmpfs (README's advice) the file is created anew after
// every reboot, or someone deletes it, while the store's outbox may still hold ids from before.
std::uint64_t start_from_clock(std::uint32_t capacity) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    return round_up(static_cast<std::uint64_t>(std::max<std::int64_t>(us, 0)), capacity);
}

// Producers of a replaced file then refuse (no false 202 into a file nobody reads), and every
// mapper learns to reopen the path.
void retire(ql::Header& header) noexcept { header.retired.store(1, std::memory_order_seq_cst); }

// A consumer sleeping on a replaced file wakes to notice it was retired.
void wake_all(ql::Header& header) noexcept {
    header.futex_word.fetch_add(1, std::memory_order_seq_cst);
    queue_futex::wake(header.futex_word, 1 << 30);
}

}  // namespace

MappedQueue open(const std::string& path, std::uint32_t capacity) {
    if (capacity != 0 && !ql::valid_capacity(capacity))
        fail(path, "capacity " + std::to_string(capacity) + " is not a power of two between " +
                       std::to_string(ql::kMinCapacity) + " and " + std::to_string(ql::kMaxCapacity));
    const Place place = place_of(path);
    Fd fd = open_existing_fd(place, path);
    // Concurrent first openers each build a complete file aside and link(2) it into place: exactly
    // one link wins and nobody ever sees a half-initialised queue, even if a creator dies midway.
    // Each loser's clock start is discarded with its file; all open the winner's.
    for (int attempt = 0; fd.get() < 0; ++attempt) {
        if (capacity == 0) fail(path, "does not exist");
        if (attempt > 10) fail(path, "keeps disappearing while being opened");
        FreshFile fresh(place.folder, place.name, path, capacity);
        fresh.start_at(start_from_clock(capacity));
        fresh.link_if_absent(place.name, path);
        fd = open_existing_fd(place, path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail_errno(path, "fstat");
    if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
    if (auto why = file_modes::writable_by_others(fd.get(), path)) fail(path, *why);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size < ql::kHeaderSize)
        fail(path, "size is " + std::to_string(size) + " bytes, too small for a queue header (truncated or corrupt)");
    Mapping mapping = map_whole(path, fd.get(), size);
    validate(path, *static_cast<const ql::Header*>(mapping.address()), size, capacity);
    return MappedQueue{std::move(fd), std::move(mapping)};
}

void replace(const std::string& path, std::uint32_t capacity) {
    if (!ql::valid_capacity(capacity))
        fail(path, "capacity " + std::to_string(capacity) + " is not a power of two between " +
                       std::to_string(ql::kMinCapacity) + " and " + std::to_string(ql::kMaxCapacity));
    const Place place = place_of(path);
    // What a reset replaces may be a planted link: the link goes, its target is never opened.
    Fd old = open_existing_fd(place, path, false);
    Mapping old_mapping = map_header_if_ours(path, old);
    auto* old_header = static_cast<ql::Header*>(old_mapping.address());
    FreshFile fresh(place.folder, place.name, path, capacity);
    if (old_header == nullptr || !trusted(path, old, *old_header)) {
        fresh.start_at(start_from_clock(capacity));
        fresh.rename_over(place.name, path);
        if (old_header != nullptr) {
            retire(*old_header);
            wake_all(*old_header);
        }
        return;
    }
    // Built while producers may still be adding to the old file: one old ring of their entries
    // ahead is allowed for, and only if they went further is it built again, after the old file
    // was retired (which stops them) — so the old file refuses notifies only for a moment.
    const std::uint32_t old_capacity = old_header->capacity;
    const auto guess = start_after(old_header->producer_position.load(std::memory_order_acquire) + old_capacity,
                                   old_capacity, capacity);
    fresh.start_at(guess);
    retire(*old_header);
    try {
        const auto needed =
            start_after(old_header->producer_position.load(std::memory_order_seq_cst), old_capacity, capacity);
        if (needed > guess) fresh.start_at(needed);
        fresh.rename_over(place.name, path);
    } catch (...) {
        // The old file stays at the path: it must go on taking notifies.
        old_header->retired.store(0, std::memory_order_seq_cst);
        throw;
    }
    wake_all(*old_header);
}

}  // namespace pushsync::queue_file
