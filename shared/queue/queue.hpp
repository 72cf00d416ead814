// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The notify queue: a file mapped MAP_SHARED by every nginx worker (producers) and the sender
// (the one consumer). docs/architecture.md, "The queue".
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pushsync {

// Wrong magic, version, capacity or size, or the file cannot be opened/created: what() names the path.
class QueueError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class EnqueueResult {
    accepted,     // published: the consumer will see it
    full,         // no room; nothing was written or overwritten (HTTP 503 queue_full)
    passed_over,  // the producer took too long between claim and publish and the consumer skipped
                  // the slot: the entry was NOT taken (HTTP 503, never a false 202)
    invalid,      // group, tail or origin longer than a slot holds (Notify's limits): nothing
                  // was claimed or written, never stored cut short (a caller bug: callers validate)
};

struct Notify {
    std::string_view group;   // <= 128 bytes (validated by the caller; longer: EnqueueResult::invalid)
    std::string_view tail;    // <= 128 bytes
    std::string_view origin;  // <= 200 bytes; empty: none
    std::int64_t enqueued_ms = 0;
};

struct QueuedNotify {
    // The ring position: increasing and unique at the path, across reset() too (the sender's
    // outbox ids are positions).
    std::uint64_t position = 0;
    std::string group;
    std::string tail;
    std::string origin;
    std::int64_t enqueued_ms = 0;
};

// Figures kept in the header so nginx, the sender and the CLI read the same ones.
// Monotonic since the file was created (or reset).
enum class Counter : unsigned {
    registrations,
    unregistrations,
    notifies_accepted,
    notifies_rejected,
    pushes_sent,
    pushes_failed,
    tokens_pruned,
    count_  // not a counter
};

// A slot read() passed because what it holds breaks the API's rules (docs/api.md "Identifiers"):
// the file was forged or is corrupt. The fields are raw bytes from the file: escape before logging.
struct RejectedSlot {
    std::uint64_t position = 0;
    std::string why;    // "tail not valid", "group length 200 over 128", …
    std::string group;  // at most a slot's bytes
    std::string tail;
};

struct QueueStats {
    std::uint32_t capacity = 0;
    std::uint64_t depth = 0;             // published or claimed, not yet committed
    std::int64_t oldest_enqueued_ms = 0; // 0: empty
    std::int64_t consumer_heartbeat_ms = 0;  // 0: never
    std::uint64_t counters[static_cast<unsigned>(Counter::count_)] = {};
    // The queue's own figures (enqueue() never moves the Counter values above: callers count
    // their HTTP outcomes with add()).
    std::uint64_t produced_position = 0;   // the next position to claim (a file starts far above 0)
    std::uint64_t read_position = 0;       // the consumer's read position (read, maybe not committed)
    std::uint64_t committed_position = 0;
    std::uint64_t full_rejections = 0;     // enqueue answered full
    std::uint64_t passed_over = 0;         // enqueue answered passed_over
    std::uint64_t skipped_slots = 0;       // slots the consumer passed: producer stalled or died
    std::uint64_t quarantined_slots = 0;   // slot rounds left unused: a passed-over producer still lived
    std::uint64_t producer_wakes = 0;      // futex wake syscalls made by producers (only when it slept)
    std::uint64_t rejected_slots = 0;      // published slots the consumer refused: content breaking the API's rules
    bool consumer_sleeping = false;        // the consumer waits on the futex right now
    bool retired = false;                  // reset() replaced this file: reopen the path
    std::int64_t created_ms = 0;
};

struct QueueOptions {
    // How long the consumer lets a slot stay claimed-but-unpublished, timed by the consumer (wall
    // clock, steady) from the moment it first finds that slot next in line and unpublished, before
    // it passes the slot. A producer that publishes later is told passed_over. Publishing takes
    // well under a microsecond with no syscall between claim and publish, so only a dead, stopped
    // or badly descheduled producer ever reaches this bound.
    std::chrono::milliseconds stall_bound{100};
};

class Queue {
public:
    // Opens the file, creating it when it does not exist: a complete file is built aside and
    // link(2)ed into place, so of concurrent first openers exactly one creates it, nobody ever sees
    // it half-initialised, and a creator dying midway leaves nothing held. An existing file must
    // match magic, layout version, size and `capacity`, else QueueError naming the path; it is
    // never re-initialised here (reset() does that). A created file's positions start at the Unix
    // time in microseconds, rounded up to a multiple of `capacity`, as reset() without a file to
    // continue: a file created again (tmpfs after a reboot, deleted by hand) never repeats the
    // positions of its predecessor, which the sender's outbox may still hold as ids.
    static std::unique_ptr<Queue> open(const std::string& path, std::uint32_t capacity);
    static std::unique_ptr<Queue> open(const std::string& path, std::uint32_t capacity, const QueueOptions& options);
    // Opens an existing file whatever its capacity (CLI).
    static std::unique_ptr<Queue> open_existing(const std::string& path);
    // Re-initialises the file on purpose (pushsyncctl queue reset): a fresh empty file replaces it
    // atomically (rename), and the replaced file is marked retired: processes that still map it
    // get `full` from enqueue() and 0 from read(), and should reopen (see retired()).
    // The fresh file's positions continue above the replaced file's (rounded up to a multiple of
    // `capacity`), or, when there is none that can be trusted, start at the Unix time in
    // microseconds: a position never repeats at a path.
    static void reset(const std::string& path, std::uint32_t capacity);

    ~Queue();
    Queue(const Queue&) = delete;
    Queue& operator=(const Queue&) = delete;

    const std::string& path() const noexcept;
    std::uint32_t capacity() const noexcept;
    // reset() replaced the file at path(), or the file is broken (its size changed, its header was
    // overwritten, or, seen by the consumer, its positions were forged): drop this Queue and open
    // the path again (which refuses a broken file, naming the problem, until `pushsyncctl queue
    // reset`). Every method checks the file's size before touching the mapping, so a truncated
    // file answers like a retired one instead of faulting (SIGBUS). See broken_reason().
    bool retired() const noexcept;
    // Why the file was found broken ("" when it was not, or was merely reset).
    std::string broken_reason() const;

    // --- producers (any process, any thread) -------------------------------------------------
    // Never blocks; wakes the consumer only when it sleeps. A field out of Notify's limits is
    // refused whole (invalid), never cut short.
    EnqueueResult enqueue(const Notify& notify) noexcept;
    // enqueue(), then the notifies_accepted or notifies_rejected counter to match, on the one check
    // of the file enqueue() made (nginx's notify path: one fstat per request, not two). Counts
    // nothing on a retired or broken file: the caller reopens the path and enqueues there.
    EnqueueResult enqueue_counted(const Notify& notify) noexcept;

    // --- the consumer ------------------------------------------------------------------------
    // Appends up to `max` entries after the read position to `out`, waiting up to `wait` on the
    // futex when there are none. Returns how many were appended. Slots a dead producer claimed
    // and never published are passed after the stall bound. Sleeps at most once per call, so it
    // may return 0 before `wait` has passed (wake_consumer(), a signal, a slot passed over).
    // The first read()/commit() makes this Queue the consumer: it takes a lock on the file (held
    // until destruction, released by the kernel if the process dies) and starts at the committed
    // position. QueueError if another open Queue (in any process) is the consumer.
    std::size_t read(std::vector<QueuedNotify>& out, std::size_t max, std::chrono::milliseconds wait);
    // Slots read() passed since the last call because their content breaks the API's rules (at
    // most the first 16; every one is counted in QueueStats::rejected_slots).
    std::vector<RejectedSlot> take_rejected();
    // The consumer's read position: everything below was read, handed out or passed.
    std::uint64_t read_position() const noexcept;
    // Everything before `position` is safe elsewhere: its slots may be reused. Never walks further
    // than read() has read, so never more than the ring's capacity.
    void commit(std::uint64_t end_position);
    // Restart reading from the committed position (a new consumer does this implicitly).
    std::uint64_t committed_position() const noexcept;
    // Entries not yet committed, without moving anything (pushsyncctl queue peek).
    std::vector<QueuedNotify> peek(std::size_t max) const;
    void heartbeat(std::int64_t now_ms) noexcept;
    // Wakes a consumer sleeping in read() (shutdown).
    void wake_consumer() noexcept;

    // --- figures --------------------------------------------------------------------------
    void add(Counter counter, std::uint64_t n = 1) noexcept;
    QueueStats stats() const noexcept;

private:
    friend struct QueueTestAccess;  // shared/queue/testing.hpp
    struct Impl;
    // Only Queue's own factories can name it: the constructor below is public for
    // std::make_unique, yet nobody else can call it.
    struct Passkey {
        explicit Passkey() = default;
    };

public:
    Queue(Passkey, std::unique_ptr<Impl> impl);

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace pushsync
