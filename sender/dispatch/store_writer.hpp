// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The loop's store writes (delivered tails with the delivery statistics, finished outbox entries) on their own thread, so a
// store.sync: always fsync (milliseconds) never stalls dispatch. Batches are written in order, each
// in one transaction (Store::write_loop_batch), coalescing whatever piled up during the previous commit. Losing a batch
// (a crash before it is written) only repeats work: at least once, never lost.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sender/dispatch/recorder.hpp"
#include "sender/logger.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

class StoreWriter {
public:
    using Sent = std::vector<std::pair<std::string, std::string>>;

    StoreWriter(Store& store, Logger& log);
    ~StoreWriter();  // stop()
    StoreWriter(const StoreWriter&) = delete;
    StoreWriter& operator=(const StoreWriter&) = delete;

    // Generation `generation` (increasing) holds these writes.
    // `budget` (sender/dispatch/holds.hpp) is written before `removed`.
    void submit(std::uint64_t generation, Sent sent, std::vector<std::uint64_t> removed, DeliveryBatch delivery = {},
                std::vector<BudgetWrite> budget = {});
    // Every generation up to this one is in the store.
    std::uint64_t written() const noexcept { return written_.load(std::memory_order_acquire); }
    // Writes what is pending and joins the thread.
    void stop();

private:
    void run();

    Store& store_;
    Logger& log_;
    std::mutex mutex_;
    std::condition_variable wake_;
    Sent sent_;
    std::vector<std::uint64_t> removed_;
    DeliveryBatch delivery_;  // written in the tails' transaction
    std::vector<BudgetWrite> budget_;
    std::uint64_t pending_generation_ = 0;
    std::atomic<std::uint64_t> written_{0};
    bool stop_ = false;
    bool pausing_ = false;  // guarded by mutex_: in the pause between commits
    std::thread thread_;
};

}  // namespace pushsync::sender
