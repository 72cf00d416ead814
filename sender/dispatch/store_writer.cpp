// SPDX-License-Identifier: BSD-2-Clause
#include "sender/dispatch/store_writer.hpp"

#include <chrono>

#include "sender/move_append.hpp"
#include "shared/log_escape.hpp"

namespace pushsync::sender {

StoreWriter::StoreWriter(Store& store, Logger& log) : store_(store), log_(log), thread_([this] { run(); }) {}

StoreWriter::~StoreWriter() { stop(); }

void StoreWriter::submit(std::uint64_t generation, Sent sent, std::vector<std::uint64_t> removed,
                         DeliveryBatch delivery, std::vector<BudgetWrite> budget) {
    {
        std::lock_guard lock(mutex_);
        move_append(sent_, std::move(sent));
        move_append(delivery_.outcomes, std::move(delivery.outcomes));
        move_append(delivery_.events, std::move(delivery.events));
        move_append(budget_, std::move(budget));
        removed_.insert(removed_.end(), removed.begin(), removed.end());
        pending_generation_ = std::max(pending_generation_, generation);
        // In its pause between commits the writer takes this on waking anyway: a wake now
        // would only cost it (and this loop) a context switch per loop iteration.
        if (pausing_) return;
    }
    wake_.notify_one();
}

void StoreWriter::stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void StoreWriter::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stop_ || pending_generation_ > written_.load(); });
        if (pending_generation_ <= written_.load()) {
            if (stop_) return;
            continue;
        }
        Sent sent = std::move(sent_);
        sent_.clear();
        std::vector<std::uint64_t> removed = std::move(removed_);
        removed_.clear();
        DeliveryBatch delivery = std::move(delivery_);
        delivery_ = DeliveryBatch{};
        std::vector<BudgetWrite> budget = std::move(budget_);
        budget_.clear();
        const std::uint64_t generation = pending_generation_;
        lock.unlock();
        for (int attempt = 1;; ++attempt) {
            try {
                store_.write_loop_batch(Store::LoopWrites{sent, delivery.outcomes, delivery.events, budget, removed});
                break;
            } catch (const StoreError& e) {
                log_.error("store.write_failed", "attempt=" + std::to_string(attempt) + " tails=" +
                                                     std::to_string(sent.size()) + " budget_writes=" +
                                                     std::to_string(budget.size()) + " outbox_ids=" +
                                                     std::to_string(removed.size()) + " error=\"" + log_escape(e.what()) + "\"");
                // Dropping only repeats work after a restart (a duplicate push, a redelivered entry).
                if (attempt == 3) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
            }
        }
        written_.store(generation, std::memory_order_release);
        lock.lock();
        // These writes are not urgent: committing at most every few milliseconds leaves LMDB's
        // one writer lock (and, with store.sync: always, the disk) to the consumer's outbox puts,
        // which are on the notify's path.
        pausing_ = true;
        wake_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stop_; });
        pausing_ = false;
    }
}

}  // namespace pushsync::sender
