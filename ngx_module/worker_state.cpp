// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/worker_state.hpp"

#include "ngx_module/guard.hpp"

namespace pushsync::ngx {

WorkerState::WorkerState(const Config& config, ngx_thread_pool_t* pool, ngx_cycle_t* cycle)
    : config_(config), log_(cycle->log), batcher_(*this, pool, cycle->log) {
    // Open eagerly so problems show in the error log at start, not at the first request.
    (void)store();
    (void)queue();
}

WorkerState::~WorkerState() = default;

Store* WorkerState::store() noexcept {
    if (store_) return store_.get();
    return guard(
        [this] {
            store_ = std::make_unique<Store>(StoreOptions::from(config_.store));
            ngx_log_error(NGX_LOG_INFO, log_, 0, "pushsync: store opened: %s", config_.store.path.c_str());
            return store_.get();
        },
        [this](const Failure& f) noexcept -> Store* {
            log_failure(log_, NGX_LOG_ERR, "store unavailable", f);
            return nullptr;
        });
}

Queue* WorkerState::queue() noexcept {
    // `pushsyncctl queue reset` swaps in a new file; a worker still on the old one would answer
    // queue_full forever.
    if (queue_ && queue_->retired()) {
        ngx_log_error(NGX_LOG_NOTICE, log_, 0, "pushsync: queue file was reset, reopening: %s",
                      config_.queue.path.c_str());
        queue_.reset();
    }
    if (queue_) return queue_.get();
    return guard(
        [this] {
            queue_ = Queue::open(config_.queue.path, config_.queue.capacity);
            ngx_log_error(NGX_LOG_INFO, log_, 0, "pushsync: queue opened: %s", config_.queue.path.c_str());
            return queue_.get();
        },
        [this](const Failure& f) noexcept -> Queue* {
            log_failure(log_, NGX_LOG_ERR, "queue unavailable", f);
            return nullptr;
        });
}

void WorkerState::close() noexcept {
    batcher_.abandon();
    store_.reset();
    queue_.reset();
}

}  // namespace pushsync::ngx
