// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What one nginx worker holds open: the store, the queue, and the group-commit batcher.
// Created in init_process (after fork: LMDB must not cross a fork), closed in exit_process.
#include <memory>

#include "ngx_module/writes/batcher.hpp"
#include "ngx_module/ngx_headers.hpp"
#include "shared/config/config.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace pushsync::ngx {

class WorkerState {
public:
    WorkerState(const Config& config, ngx_thread_pool_t* pool, ngx_cycle_t* cycle);
    ~WorkerState();
    WorkerState(const WorkerState&) = delete;
    WorkerState& operator=(const WorkerState&) = delete;

    const Config& config() const noexcept { return config_; }
    // nullptr when it cannot be opened (logged once per attempt); retried on the next call so a
    // fixed permission problem heals without a restart.
    Store* store() noexcept;
    Queue* queue() noexcept;
    // The queue as opened, without asking whether `pushsyncctl queue reset` retired it (an fstat):
    // for the notify path, whose enqueue answers full on a retired file and then asks queue().
    Queue* queue_as_opened() noexcept { return queue_ ? queue_.get() : queue(); }
    Batcher& batcher() noexcept { return batcher_; }

    // exit_process: close the files now (the thread pool has already finished its tasks).
    void close() noexcept;

private:
    const Config& config_;
    ngx_log_t* log_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Queue> queue_;
    Batcher batcher_;
};

}  // namespace pushsync::ngx
