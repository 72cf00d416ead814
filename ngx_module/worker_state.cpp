#include "ngx_module/worker_state.hpp"

#include <exception>

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
    try {
        store_ = std::make_unique<Store>(StoreOptions::from(config_.store));
        ngx_log_error(NGX_LOG_INFO, log_, 0, "pushsync: store opened: %s", config_.store.path.c_str());
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, log_, 0, "pushsync: store unavailable: %s", e.what());
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, log_, 0, "pushsync: store unavailable: unknown exception");
    }
    return store_.get();
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
    try {
        queue_ = Queue::open(config_.queue.path, config_.queue.capacity);
        ngx_log_error(NGX_LOG_INFO, log_, 0, "pushsync: queue opened: %s", config_.queue.path.c_str());
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, log_, 0, "pushsync: queue unavailable: %s", e.what());
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, log_, 0, "pushsync: queue unavailable: unknown exception");
    }
    return queue_.get();
}

void WorkerState::close() noexcept {
    batcher_.abandon();
    store_.reset();
    queue_.reset();
}

}  // namespace pushsync::ngx
