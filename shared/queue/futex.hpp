// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// futex(2) on a word inside the shared mapping. Not FUTEX_PRIVATE_FLAG: the waiter (the sender)
// and the wakers (nginx workers) are different processes; shared futexes are keyed by the file's
// inode and offset, so each process may map the file at a different address.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace pushsync::queue_futex {

// Sleeps while *word == expected, at most `timeout`. Returns early on a wake, a signal, or when
// the word already differs (the caller re-checks its condition in every case).
void wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::chrono::nanoseconds timeout) noexcept;
// Wakes up to `count` sleepers on the word.
void wake(std::atomic<std::uint32_t>& word, int count) noexcept;

}  // namespace pushsync::queue_futex
