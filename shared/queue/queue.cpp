// SPDX-License-Identifier: BSD-2-Clause
// The notify queue: many producers (nginx workers), one consumer (the sender), over a MAP_SHARED
// file. Protocol (positions only grow; slot = position & mask, round = position >> shift):
//
// producer  1. claim position p by CAS on producer_position, only while p - committed < capacity
//              (else `full`, at once, nothing written);
//           2. CAS the slot FREE(r) -> CLAIMED(r), having first marked itself the slot's writer;
//           3. write the entry, clear the writer mark, CAS CLAIMED(r) -> PUBLISHED(r). If the
//              consumer has meanwhile marked the slot SKIPPED(r), that CAS fails: `passed_over`;
//           4. wake the consumer only if it announced that it sleeps.
// consumer  reads positions in order; a slot claimed but not published for the stall bound is CAS'd
//           to SKIPPED(r) and passed. commit(end) hands slots before `end` to the next round: FREE,
//           or QUARANTINED when a passed-over producer is still alive and could still write into
//           the slot's bytes (a producer claiming a quarantined slot just takes the next position).
// No step waits for another process, so a process dying anywhere leaves nothing held.
#include "shared/queue/queue.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>

#include "shared/queue/file.hpp"
#include "shared/queue/futex.hpp"
#include "shared/queue/layout.hpp"
#include "shared/queue/origin.hpp"
#include "shared/queue/testing.hpp"
#include "shared/validation.hpp"

namespace pushsync {

namespace ql = queue_layout;
using Clock = std::chrono::steady_clock;

namespace {

// The producer's identity for the slot's writer mark: pid << 32 | tid. Cached per thread because
// getpid()/gettid() are syscalls and enqueue must stay far below a microsecond; the cache is
// forgotten in a forked child (nginx forks its workers), where both numbers change.
struct WriterIdCache {
    std::uint64_t value = 0;
};
thread_local WriterIdCache t_writer_id;

void forget_writer_id_after_fork() { t_writer_id.value = 0; }

std::uint64_t writer_id() noexcept {
    if (t_writer_id.value == 0) {
        static std::once_flag registered;
        std::call_once(registered, [] { ::pthread_atfork(nullptr, nullptr, forget_writer_id_after_fork); });
        t_writer_id.value = (static_cast<std::uint64_t>(::getpid()) << 32) | static_cast<std::uint32_t>(::gettid());
    }
    return t_writer_id.value;
}

// Whether the thread behind a writer mark may still run (and so still write into the slot).
// Another user's process answers EPERM: it exists. A producer in another pid namespace would be
// misjudged; nginx and the sender share the host's namespace.
bool writer_may_be_alive(std::uint64_t writer) noexcept {
    const auto pid = static_cast<pid_t>(writer >> 32);
    const auto tid = static_cast<pid_t>(writer & 0xffffffffu);
    if (::syscall(SYS_tgkill, pid, tid, 0) == 0) return true;
    return errno != ESRCH;
}

// Whether every field fits its slot array: checked before claiming, so a bad entry takes no
// position and is never stored cut short.
bool fits_slot(const Notify& notify) noexcept {
    return notify.group.size() <= ql::kMaxGroup && notify.tail.size() <= ql::kMaxTail &&
           notify.origin.size() <= ql::kMaxOrigin;
}

std::size_t copy_field(char* dst, std::string_view src) noexcept {
    std::memcpy(dst, src.data(), src.size());  // fits_slot() bounded it
    return src.size();
}

struct NoHook {
    void operator()() const noexcept {}
};

// The reason a published slot's content cannot be a notify, "" when it can: the API's rules
// (validation.hpp), applied to what any process may have written into the file.
std::string slot_problem(std::size_t group_len, std::size_t tail_len, std::size_t origin_len, std::string_view group,
                         std::string_view tail, std::string_view origin) {
    if (group_len > ql::kMaxGroup) return "group length " + std::to_string(group_len) + " over " + std::to_string(ql::kMaxGroup);
    if (tail_len > ql::kMaxTail) return "tail length " + std::to_string(tail_len) + " over " + std::to_string(ql::kMaxTail);
    if (origin_len > ql::kMaxOrigin)
        return "origin length " + std::to_string(origin_len) + " over " + std::to_string(ql::kMaxOrigin);
    if (!is_valid_group(group)) return "group not valid";
    if (!is_valid_tail(tail)) return "tail not valid";
    if (!origin.empty() && !is_valid_queued_origin(origin)) return "origin not a valid token";
    return {};
}

constexpr std::size_t kRejectedKept = 16;

}  // namespace

struct Queue::Impl {
    std::string path;
    queue_file::MappedQueue file;
    ql::Header* header = nullptr;
    ql::Slot* slots = nullptr;
    std::uint32_t capacity = 0;
    std::uint64_t mask = 0;
    unsigned shift = 0;
    Clock::duration stall_bound{};

    // Set once the file is found broken; never cleared (the Queue must be dropped and reopened).
    std::atomic<bool> broken{false};
    mutable std::mutex broken_mutex;
    std::string broken_why;  // guarded by broken_mutex

    // The consumer's own state (only in the one process that reads).
    bool is_consumer = false;
    // What this consumer last stored as committed_position: nobody else writes it, so a header
    // that says otherwise was forged.
    std::uint64_t committed = 0;
    std::uint64_t read_position = 0;
    std::vector<RejectedSlot> rejected;
    std::uint64_t stuck_position = std::numeric_limits<std::uint64_t>::max();
    Clock::time_point stuck_since{};

    Impl(std::string p, queue_file::MappedQueue f, const QueueOptions& options)
        : path(std::move(p)), file(std::move(f)), header(file.header()), slots(file.slots()),
          capacity(header->capacity), mask(capacity - 1), shift(static_cast<unsigned>(std::countr_zero(capacity))),
          stall_bound(options.stall_bound) {}

    ql::Slot& slot(std::uint64_t position) const noexcept { return slots[position & mask]; }

    void mark_broken(std::string why) noexcept;
    // The file still has the size it was mapped with and its header its identity: checked before
    // every use of the mapping (a truncated file would fault, SIGBUS, on the next access).
    bool intact() noexcept;
    // intact() and not retired.
    bool usable() noexcept;
    // For the consumer's own thread: the header's positions are ones only its own commits and
    // producers following the protocol explain. Else the file is marked broken.
    bool positions_sane() noexcept;
    std::uint64_t round(std::uint64_t position) const noexcept { return position >> shift; }

    template <typename Hook>
    EnqueueResult enqueue(const Notify& notify, const Hook& after_claim) noexcept;
    template <typename Hook>
    void commit(std::uint64_t end_position, const Hook& before_moving_position);
    std::size_t drain(std::vector<QueuedNotify>& out, std::size_t max);
    bool next_is_ready() const noexcept;
    void become_consumer();
    void wake_if_sleeping() noexcept;
};

void Queue::Impl::mark_broken(std::string why) noexcept {
    try {
        std::lock_guard lock(broken_mutex);
        if (broken_why.empty()) broken_why = "queue file " + path + ": " + std::move(why);
    } catch (...) {
        // The flag below is what matters; the reason is for the log.
    }
    broken.store(true, std::memory_order_release);
}

bool Queue::Impl::intact() noexcept {
    if (broken.load(std::memory_order_acquire)) return false;
    struct stat st {};
    if (::fstat(file.fd.get(), &st) != 0) return true;  // cannot tell; the size was right at open
    if (static_cast<std::uint64_t>(st.st_size) != file.mapping.size()) {
        mark_broken("size changed from " + std::to_string(file.mapping.size()) + " to " + std::to_string(st.st_size) +
                    " bytes under the mapping (truncated?); `pushsyncctl queue reset` re-creates it");
        return false;
    }
    const ql::Header& h = *header;
    if (std::memcmp(h.magic, ql::kMagic, sizeof ql::kMagic) != 0 || h.version != ql::kVersion ||
        h.capacity != capacity || h.slot_size != ql::kSlotSize || h.header_size != ql::kHeaderSize) {
        mark_broken("header overwritten (magic, version or layout changed); `pushsyncctl queue reset` re-creates it");
        return false;
    }
    return true;
}

bool Queue::Impl::positions_sane() noexcept {
    if (!is_consumer) return true;
    const ql::Header& h = *header;
    // Acquire on committed first: every later load sees at least what it implies.
    const auto header_committed = h.committed_position.load(std::memory_order_acquire);
    const auto produced = h.producer_position.load(std::memory_order_acquire);
    // Producers claim only below committed + capacity and only this consumer moves committed.
    if (header_committed != committed || produced < read_position || produced - committed > capacity) {
        mark_broken("positions forged (committed " + std::to_string(header_committed) + ", this consumer committed " +
                    std::to_string(committed) + ", produced " + std::to_string(produced) + ", read " +
                    std::to_string(read_position) + ", capacity " + std::to_string(capacity) +
                    "); `pushsyncctl queue reset` re-creates it");
        return false;
    }
    return true;
}

bool Queue::Impl::usable() noexcept {
    return intact() && header->retired.load(std::memory_order_relaxed) == 0;
}

template <typename Hook>
EnqueueResult Queue::Impl::enqueue(const Notify& notify, const Hook& after_claim) noexcept {
    ql::Header& h = *header;
    if (!fits_slot(notify)) return EnqueueResult::invalid;
    if (!intact()) return EnqueueResult::full;  // truncated or overwritten: nobody can read it
    if (h.retired.load(std::memory_order_relaxed) != 0) return EnqueueResult::full;  // nobody reads this file
    const std::uint64_t me = writer_id();
    for (;;) {
        // 1. Claim a position. committed is loaded before producer_position, so committed <= p.
        std::uint64_t p = 0;
        for (;;) {
            const auto committed = h.committed_position.load(std::memory_order_acquire);
            p = h.producer_position.load(std::memory_order_relaxed);
            if (p - committed >= capacity) {
                h.full_rejections.fetch_add(1, std::memory_order_relaxed);
                return EnqueueResult::full;
            }
            if (h.producer_position.compare_exchange_weak(p, p + 1, std::memory_order_acq_rel,
                                                          std::memory_order_relaxed))
                break;
        }
        ql::Slot& s = slot(p);
        const auto r = round(p);
        auto expected = ql::state(r, ql::kFree);
        // committed's acquire above made the consumer's hand-over of this slot visible.
        const auto seen = s.state.load(std::memory_order_acquire);
        if (seen == ql::state(r, ql::kQuarantined)) continue;  // the position is lost, not the entry
        if (seen != expected) {  // we stalled past the bound before even marking the slot
            h.passed_over.fetch_add(1, std::memory_order_relaxed);
            return EnqueueResult::passed_over;
        }
        // 2. Mark ourselves the writer, then claim the slot.
        std::uint64_t nobody = 0;
        if (!s.writer.compare_exchange_strong(nobody, me, std::memory_order_acq_rel)) {
            // A producer of an earlier round that was passed over still holds the mark (it stalled
            // before its own claim). Let the consumer pass this position at once and move on.
            s.state.compare_exchange_strong(expected, ql::state(r, ql::kSkipped), std::memory_order_acq_rel);
            continue;
        }
        if (!s.state.compare_exchange_strong(expected, ql::state(r, ql::kClaimed), std::memory_order_acq_rel)) {
            auto mine = me;
            s.writer.compare_exchange_strong(mine, 0, std::memory_order_release);
            h.passed_over.fetch_add(1, std::memory_order_relaxed);
            return EnqueueResult::passed_over;
        }
        after_claim();
        // 3. Write, give up the writer mark (the bytes are final), publish.
        s.group_len = static_cast<std::uint8_t>(copy_field(s.group, notify.group));
        s.tail_len = static_cast<std::uint8_t>(copy_field(s.tail, notify.tail));
        s.origin_len = static_cast<std::uint8_t>(copy_field(s.origin, notify.origin));
        s.enqueued_ms.store(notify.enqueued_ms, std::memory_order_relaxed);
        auto mine = me;
        s.writer.compare_exchange_strong(mine, 0, std::memory_order_release);
        auto claimed = ql::state(r, ql::kClaimed);
        if (!s.state.compare_exchange_strong(claimed, ql::state(r, ql::kPublished), std::memory_order_seq_cst)) {
            h.passed_over.fetch_add(1, std::memory_order_relaxed);
            return EnqueueResult::passed_over;
        }
        // 4. Publish happens-before this load (seq_cst on both sides, see read()): either we see the
        // consumer's sleeping flag, or the consumer sees our entry before it sleeps.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        wake_if_sleeping();
        return EnqueueResult::accepted;
    }
}

void Queue::Impl::wake_if_sleeping() noexcept {
    ql::Header& h = *header;
    // exchange: of several producers publishing at once, only one pays for the syscall.
    if (h.consumer_sleeping.load(std::memory_order_relaxed) != 0 &&
        h.consumer_sleeping.exchange(0, std::memory_order_seq_cst) != 0) {
        h.futex_word.fetch_add(1, std::memory_order_seq_cst);
        queue_futex::wake(h.futex_word, 1);
        h.producer_wakes.fetch_add(1, std::memory_order_relaxed);
    }
}

void Queue::Impl::become_consumer() {
    if (is_consumer) return;
    // An OFD lock: owned by this open file, dropped by the kernel when the process dies, so a
    // crashed sender never blocks its successor.
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 1;
    if (::fcntl(file.fd.get(), F_OFD_SETLK, &lock) != 0) {
        const int err = errno;
        if (err == EAGAIN || err == EACCES)
            throw QueueError("queue file " + path + ": another process is already its consumer");
        throw QueueError("queue file " + path + ": cannot lock it for the consumer: " + std::strerror(err));
    }
    is_consumer = true;
    // At least once: whatever a previous consumer read but did not commit is read again.
    committed = header->committed_position.load(std::memory_order_acquire);
    read_position = committed;
    header->read_position.store(read_position, std::memory_order_relaxed);
}

std::size_t Queue::Impl::drain(std::vector<QueuedNotify>& out, std::size_t max) {
    ql::Header& h = *header;
    std::size_t appended = 0;
    // Never past one ring from this consumer's committed position, whatever the file says now.
    const auto produced = std::min(h.producer_position.load(std::memory_order_acquire), committed + capacity);
    while (appended < max && read_position < produced) {
        const auto p = read_position;
        ql::Slot& s = slot(p);
        const auto r = round(p);
        auto st = s.state.load(std::memory_order_acquire);
        if (st == ql::state(r, ql::kPublished)) {
            // Copied once, then judged on the copy: another process may be rewriting the bytes.
            const std::size_t group_len = s.group_len, tail_len = s.tail_len, origin_len = s.origin_len;
            QueuedNotify e;
            e.position = p;
            e.group.assign(s.group, std::min(group_len, ql::kMaxGroup));
            e.tail.assign(s.tail, std::min(tail_len, ql::kMaxTail));
            e.origin.assign(s.origin, std::min(origin_len, ql::kMaxOrigin));
            e.enqueued_ms = s.enqueued_ms.load(std::memory_order_relaxed);
            ++read_position;
            std::string why = slot_problem(group_len, tail_len, origin_len, e.group, e.tail, e.origin);
            if (!why.empty()) {
                h.rejected.fetch_add(1, std::memory_order_relaxed);
                if (rejected.size() < kRejectedKept)
                    rejected.push_back(RejectedSlot{p, std::move(why), std::move(e.group), std::move(e.tail)});
                continue;
            }
            out.push_back(std::move(e));
            ++appended;
            continue;
        }
        if (st == ql::state(r, ql::kSkipped) || st == ql::state(r, ql::kQuarantined) || ql::round_of_state(st) > r) {
            // A later round: a consumer died inside commit() after handing this slot on but before
            // moving the committed position; the entry was committed (safe elsewhere) already.
            ++read_position;
            continue;
        }
        // Claimed (or its position taken) and not published yet: normally a producer mid-write.
        const auto now = Clock::now();
        if (stuck_position != p) {
            stuck_position = p;
            stuck_since = now;
            break;
        }
        if (now - stuck_since < stall_bound) break;
        if (s.state.compare_exchange_strong(st, ql::state(r, ql::kSkipped), std::memory_order_acq_rel)) {
            h.skipped.fetch_add(1, std::memory_order_relaxed);
            ++read_position;
        }
        // else: published at the last moment; the next turn reads it.
    }
    h.read_position.store(read_position, std::memory_order_relaxed);
    return appended;
}

bool Queue::Impl::next_is_ready() const noexcept {
    const auto p = read_position;
    if (p >= header->producer_position.load(std::memory_order_seq_cst)) return false;
    const auto tag = ql::tag_of_state(slot(p).state.load(std::memory_order_seq_cst));
    return tag != ql::kFree && tag != ql::kClaimed;
}

Queue::Queue(Passkey, std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Queue::~Queue() = default;

std::unique_ptr<Queue> Queue::open(const std::string& path, std::uint32_t capacity) {
    return open(path, capacity, QueueOptions{});
}

std::unique_ptr<Queue> Queue::open(const std::string& path, std::uint32_t capacity, const QueueOptions& options) {
    if (capacity == 0) throw QueueError("queue file " + path + ": capacity 0 is not a power of two");
    auto file = queue_file::open(path, capacity);
    return std::make_unique<Queue>(Passkey{}, std::make_unique<Impl>(path, std::move(file), options));
}

std::unique_ptr<Queue> Queue::open_existing(const std::string& path) {
    auto file = queue_file::open(path, 0);
    return std::make_unique<Queue>(Passkey{}, std::make_unique<Impl>(path, std::move(file), QueueOptions{}));
}

void Queue::reset(const std::string& path, std::uint32_t capacity) { queue_file::replace(path, capacity); }

const std::string& Queue::path() const noexcept { return impl_->path; }
std::uint32_t Queue::capacity() const noexcept { return impl_->capacity; }
bool Queue::retired() const noexcept { return !impl_->usable(); }

std::string Queue::broken_reason() const {
    std::lock_guard lock(impl_->broken_mutex);
    return impl_->broken_why;
}

std::vector<RejectedSlot> Queue::take_rejected() {
    std::vector<RejectedSlot> out;
    out.swap(impl_->rejected);
    return out;
}

std::uint64_t Queue::read_position() const noexcept { return impl_->read_position; }

EnqueueResult Queue::enqueue(const Notify& notify) noexcept { return impl_->enqueue(notify, NoHook{}); }

EnqueueResult Queue::enqueue_counted(const Notify& notify) noexcept {
    Impl& q = *impl_;
    const EnqueueResult result = q.enqueue(notify, NoHook{});
    if (result == EnqueueResult::invalid) {  // refused before enqueue looked at the file
        add(Counter::notifies_rejected);
        return result;
    }
    // enqueue() found the file intact a moment ago, or marked it broken: a truncation since then is
    // no likelier than one during enqueue() itself, so the counter needs no fstat of its own.
    if (q.broken.load(std::memory_order_acquire) || q.header->retired.load(std::memory_order_relaxed) != 0) return result;
    const Counter counter = result == EnqueueResult::accepted ? Counter::notifies_accepted : Counter::notifies_rejected;
    q.header->counters[static_cast<unsigned>(counter)].fetch_add(1, std::memory_order_relaxed);
    return result;
}

EnqueueResult QueueTestAccess::enqueue_pausing(Queue& queue, const Notify& notify,
                                               const std::function<void()>& after_claim) {
    return queue.impl_->enqueue(notify, after_claim);
}

std::size_t Queue::read(std::vector<QueuedNotify>& out, std::size_t max, std::chrono::milliseconds wait) {
    Impl& q = *impl_;
    if (!q.intact()) return 0;  // before become_consumer(): its lock and loads touch the file
    q.become_consumer();
    ql::Header& h = *q.header;
    // A retired file's entries were discarded on purpose by reset(), a broken one cannot be
    // trusted; the caller must reopen.
    if (!q.usable() || !q.positions_sane()) return 0;
    const auto deadline = Clock::now() + wait;
    std::size_t n = q.drain(out, max);
    if (n > 0 || max == 0) return n;
    auto now = Clock::now();
    if (now >= deadline) return 0;
    auto until = deadline;
    if (q.stuck_position == q.read_position) until = std::min(until, q.stuck_since + q.stall_bound);
    // Announce the sleep, then look once more (seq_cst, pairs with the producer's fence): a
    // producer that published before seeing the flag is seen here, one after it wakes us. The
    // futex word is read first so a wake between here and FUTEX_WAIT makes the wait return at once.
    const auto word = h.futex_word.load(std::memory_order_seq_cst);
    h.consumer_sleeping.store(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!q.next_is_ready()) queue_futex::wait(h.futex_word, word, until - now);
    if (!q.usable() || !q.positions_sane()) return 0;  // changed while it slept
    h.consumer_sleeping.store(0, std::memory_order_relaxed);
    return q.drain(out, max);
}

template <typename Hook>
void Queue::Impl::commit(std::uint64_t end_position, const Hook& before_moving_position) {
    Impl& q = *this;
    if (!q.intact()) return;
    q.become_consumer();
    if (!q.usable() || !q.positions_sane()) return;
    ql::Header& h = *q.header;
    // From this consumer's own committed position, never the header's, and never past what it
    // read: at most one ring, whatever the file says.
    const auto end = std::min({end_position, q.read_position, q.committed + q.capacity});
    for (auto p = q.committed; p < end; ++p) {
        ql::Slot& s = q.slot(p);
        const auto next = q.round(p) + 1;
        const auto st = s.state.load(std::memory_order_acquire);
        if (ql::round_of_state(st) >= next) continue;  // handed on by an interrupted commit (see drain)
        if (ql::tag_of_state(st) == ql::kPublished) {
            s.state.store(ql::state(next, ql::kFree), std::memory_order_release);
            continue;
        }
        // Passed over: reusable only once nobody can still write its bytes.
        auto writer = s.writer.load(std::memory_order_acquire);
        if (writer != 0 && writer_may_be_alive(writer)) {
            s.state.store(ql::state(next, ql::kQuarantined), std::memory_order_release);
            h.quarantined.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (writer != 0) s.writer.compare_exchange_strong(writer, 0, std::memory_order_acq_rel);  // it died
        s.state.store(ql::state(next, ql::kFree), std::memory_order_release);
    }
    before_moving_position();
    // Release: the slots' new states are visible to any producer that sees the new position.
    if (end > q.committed) {
        h.committed_position.store(end, std::memory_order_release);
        q.committed = end;
    }
}

void Queue::commit(std::uint64_t end_position) { impl_->commit(end_position, NoHook{}); }

void QueueTestAccess::commit_pausing(Queue& queue, std::uint64_t end_position,
                                     const std::function<void()>& before_moving_position) {
    queue.impl_->commit(end_position, before_moving_position);
}

std::uint64_t Queue::committed_position() const noexcept {
    if (!impl_->intact()) return 0;
    return impl_->header->committed_position.load(std::memory_order_acquire);
}

std::vector<QueuedNotify> Queue::peek(std::size_t max) const {
    Impl& q = *impl_;
    std::vector<QueuedNotify> out;
    if (!q.intact()) return out;
    const auto committed = q.header->committed_position.load(std::memory_order_acquire);
    const auto produced = q.header->producer_position.load(std::memory_order_acquire);
    // Bounded by one ring whatever the positions say (a forged producer_position).
    const auto end = std::min(produced, committed + q.capacity);
    for (auto p = committed; p < end && out.size() < max; ++p) {
        const ql::Slot& s = q.slot(p);
        const auto published = ql::state(q.round(p), ql::kPublished);
        if (s.state.load(std::memory_order_acquire) != published) continue;
        QueuedNotify e;
        e.position = p;
        e.group.assign(s.group, std::min<std::size_t>(s.group_len, ql::kMaxGroup));
        e.tail.assign(s.tail, std::min<std::size_t>(s.tail_len, ql::kMaxTail));
        e.origin.assign(s.origin, std::min<std::size_t>(s.origin_len, ql::kMaxOrigin));
        e.enqueued_ms = s.enqueued_ms.load(std::memory_order_relaxed);
        // Seqlock-style: the consumer may have committed and a producer reused the slot meanwhile.
        std::atomic_thread_fence(std::memory_order_acquire);
        if (s.state.load(std::memory_order_relaxed) != published) continue;
        out.push_back(std::move(e));
    }
    return out;
}

void Queue::heartbeat(std::int64_t now_ms) noexcept {
    if (!impl_->intact()) return;
    impl_->header->consumer_heartbeat_ms.store(now_ms, std::memory_order_relaxed);
}

void Queue::wake_consumer() noexcept {
    if (!impl_->intact()) return;  // a consumer sleeping on it wakes by its timeout
    ql::Header& h = *impl_->header;
    h.futex_word.fetch_add(1, std::memory_order_seq_cst);
    queue_futex::wake(h.futex_word, 1 << 30);
}

void Queue::add(Counter counter, std::uint64_t n) noexcept {
    const auto i = static_cast<unsigned>(counter);
    if (i < static_cast<unsigned>(Counter::count_) && impl_->intact()) impl_->header->counters[i].fetch_add(n, std::memory_order_relaxed);
}

QueueStats Queue::stats() const noexcept {
    Impl& q = *impl_;
    const ql::Header& h = *q.header;
    QueueStats st;
    st.capacity = q.capacity;
    if (!q.intact()) {
        st.retired = true;
        return st;
    }
    st.committed_position = h.committed_position.load(std::memory_order_acquire);
    st.produced_position = h.producer_position.load(std::memory_order_acquire);
    st.read_position = h.read_position.load(std::memory_order_relaxed);
    st.depth = st.produced_position - std::min(st.produced_position, st.committed_position);
    // The oldest entry: the first published one from the committed position on (passed slots have
    // no entry). Bounded so a huge backlog of passed slots cannot make this slow.
    constexpr std::uint64_t kScan = 1024;
    for (auto p = st.committed_position; p < st.produced_position && p < st.committed_position + kScan; ++p) {
        const ql::Slot& s = q.slot(p);
        const auto published = ql::state(q.round(p), ql::kPublished);
        if (s.state.load(std::memory_order_acquire) != published) continue;
        const auto ms = s.enqueued_ms.load(std::memory_order_relaxed);
        if (s.state.load(std::memory_order_acquire) != published) continue;
        st.oldest_enqueued_ms = ms;
        break;
    }
    st.consumer_heartbeat_ms = h.consumer_heartbeat_ms.load(std::memory_order_relaxed);
    for (unsigned i = 0; i < static_cast<unsigned>(Counter::count_); ++i)
        st.counters[i] = h.counters[i].load(std::memory_order_relaxed);
    st.full_rejections = h.full_rejections.load(std::memory_order_relaxed);
    st.passed_over = h.passed_over.load(std::memory_order_relaxed);
    st.skipped_slots = h.skipped.load(std::memory_order_relaxed);
    st.quarantined_slots = h.quarantined.load(std::memory_order_relaxed);
    st.producer_wakes = h.producer_wakes.load(std::memory_order_relaxed);
    st.rejected_slots = h.rejected.load(std::memory_order_relaxed);
    st.consumer_sleeping = h.consumer_sleeping.load(std::memory_order_relaxed) != 0;
    st.retired = h.retired.load(std::memory_order_relaxed) != 0;
    st.created_ms = h.created_ms;
    return st;
}

}  // namespace pushsync
