// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The bytes of the queue file, shared by every process that maps it. Internal to queue*.cpp.
//
// file = Header (4096 bytes) + capacity × Slot (512 bytes), capacity a power of two.
// Everything another process may touch concurrently is a lock-free std::atomic: lock-free atomics
// are plain memory operations, so they work between processes on a MAP_SHARED mapping, and no
// lock exists that a dead process could hold.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "shared/queue/queue.hpp"
#include "shared/validation.hpp"

namespace pushsync::queue_layout {

inline constexpr char kMagic[8] = {'P', 'S', 'Y', 'N', 'C', 'Q', '\r', '\n'};
// Bump whenever a byte of Header or Slot changes meaning.
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 4096;
inline constexpr std::size_t kSlotSize = 512;
// A slot holds the longest group, tail and origin token the contract allows.
inline constexpr std::size_t kMaxGroup = max_group_length;
inline constexpr std::size_t kMaxTail = max_tail_length;
inline constexpr std::size_t kMaxOrigin = max_token_length;
inline constexpr std::uint32_t kMinCapacity = 2;
inline constexpr std::uint32_t kMaxCapacity = 1u << 22;  // 2 GiB of slots: far beyond any sane ring

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

// Each slot's state word: (round << 3) | tag, where round = position >> log2(capacity).
// Carrying the round makes every state of every use of a slot distinct, so a late CAS by a
// producer from an earlier round can never succeed. Every file, first-created or reset, starts
// at a later round (shared/queue/file.cpp: positions never repeat at a path) and so writes every slot's
// state when it is built: a file is never sparse.
enum Tag : std::uint64_t {
    kFree = 0,         // may be claimed by the producer of this round's position
    kClaimed = 1,      // a producer is writing the data
    kPublished = 2,    // complete: the consumer may read it
    kSkipped = 3,      // the consumer passed it (producer stalled or died); never to be read
    kQuarantined = 4,  // unusable this round: a passed-over producer may still write into it
};
constexpr std::uint64_t state(std::uint64_t round, Tag tag) noexcept { return (round << 3) | tag; }
constexpr std::uint64_t round_of_state(std::uint64_t s) noexcept { return s >> 3; }
constexpr Tag tag_of_state(std::uint64_t s) noexcept { return static_cast<Tag>(s & 7); }

struct alignas(64) Header {
    // --- written once when the file is created, read-only afterwards ---------------------
    char magic[8];
    std::uint32_t version;
    std::uint32_t capacity;
    std::uint32_t slot_size;
    std::uint32_t header_size;
    std::uint64_t file_size;
    std::int64_t created_ms;
    // Set by reset() on the file it replaces: mappers of this (now unlinked) inode must reopen.
    std::atomic<std::uint32_t> retired;
    std::uint32_t pad0;

    // --- hot words, one cache line each so producers and the consumer don't share lines ---
    alignas(64) std::atomic<std::uint64_t> producer_position;  // next position to claim
    alignas(64) std::atomic<std::uint64_t> committed_position; // everything before is done
    std::atomic<std::uint64_t> read_position;                  // the consumer's, for figures only
    alignas(64) std::atomic<std::uint32_t> consumer_sleeping;  // 1: a producer must wake it
    std::atomic<std::uint32_t> futex_word;                     // bumped by every wake
    std::atomic<std::int64_t> consumer_heartbeat_ms;

    // --- figures -------------------------------------------------------------------------
    alignas(64) std::atomic<std::uint64_t> counters[static_cast<unsigned>(Counter::count_)];
    std::atomic<std::uint64_t> full_rejections;  // enqueue answered full
    std::atomic<std::uint64_t> passed_over;      // enqueue answered passed_over
    std::atomic<std::uint64_t> skipped;          // slots the consumer passed (stalled/dead producer)
    std::atomic<std::uint64_t> quarantined;      // slot rounds lost to a still-living stalled producer
    std::atomic<std::uint64_t> producer_wakes;   // FUTEX_WAKE calls by producers (consumer was asleep)
    // Added after version 1 was written, in bytes that were zero: an older file reads 0 here.
    std::atomic<std::uint64_t> rejected;         // published slots whose content broke the API's rules
};
static_assert(sizeof(Header) <= kHeaderSize);
static_assert(std::is_standard_layout_v<Header>);

struct Slot {
    std::atomic<std::uint64_t> state;
    // (pid << 32 | tid) of the producer between claiming and finishing its data writes; 0 when
    // nobody can write the data any more. Lets the consumer tell a dead producer (slot reusable)
    // from a stalled living one (slot quarantined until it is done).
    std::atomic<std::uint64_t> writer;
    std::atomic<std::int64_t> enqueued_ms;
    std::uint8_t group_len;
    std::uint8_t tail_len;
    std::uint8_t origin_len;
    std::uint8_t pad0[5];
    char group[kMaxGroup];
    char tail[kMaxTail];
    char origin[kMaxOrigin];
};
static_assert(sizeof(Slot) <= kSlotSize);
static_assert(std::is_standard_layout_v<Slot>);
static_assert(kMaxOrigin <= 255 && kMaxGroup <= 255 && kMaxTail <= 255);

constexpr std::uint64_t file_size_for(std::uint32_t capacity) noexcept {
    return kHeaderSize + std::uint64_t{capacity} * kSlotSize;
}
constexpr bool valid_capacity(std::uint32_t capacity) noexcept {
    return capacity >= kMinCapacity && capacity <= kMaxCapacity && (capacity & (capacity - 1)) == 0;
}

}  // namespace pushsync::queue_layout
