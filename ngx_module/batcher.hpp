#pragma once
// Group commit: registrations and unregistrations wait in the worker; while no write task runs,
// one task takes every pending write to the thread pool and commits them in one LMDB transaction
// per kind. Its completion (back on the event loop) answers each request, after posting the next
// batch made of whatever arrived meanwhile. The event loop never waits for the disk.
#include <vector>

#include "ngx_module/ngx_headers.hpp"
#include "ngx_module/pending_write.hpp"
#include "shared/store.hpp"

namespace pushsync::ngx {

class WorkerState;

// Who keeps a submitted request alive until the batcher's ngx_http_finalize_request.
enum class RequestRef {
    held,  // already counted: ngx_http_read_client_request_body did r->main->count++
    take,  // submit() adds r->main->count++ itself, only once the write is queued
};

class Batcher {
public:
    Batcher(WorkerState& worker, ngx_thread_pool_t* pool, ngx_log_t* log);
    Batcher(const Batcher&) = delete;
    Batcher& operator=(const Batcher&) = delete;

    // Takes the request out of nginx's hands until the answer (r->main->blocked). When it throws,
    // nothing was taken or counted: the caller still owns the request.
    void submit(PendingWrite write, RequestRef ref);
    // exit_process: the requests of a batch that never completed are gone with the worker.
    void abandon() noexcept;

private:
    static void run_in_thread(void* data, ngx_log_t* log) noexcept;  // thread pool: the transactions
    static void completed(ngx_event_t* event) noexcept;             // event loop: the answers
    static void keep_alive(ngx_event_t* event) noexcept;
    void post_batch() noexcept;
    void fail_pending() noexcept;  // answers every pending write with 503
    void answer(PendingWrite& write) noexcept;
    // One transaction for the in-flight writes of one kind; a failure fails them all.
    template <class Change, class Commit>
    void commit_kind(ngx_log_t* log, Commit&& commit) noexcept;

    WorkerState& worker_;
    ngx_thread_pool_t* pool_;
    ngx_log_t* log_;
    ngx_thread_task_t* task_ = nullptr;  // one task, reused: at most one batch in flight
    bool running_ = false;
    Store* batch_store_ = nullptr;
    std::vector<PendingWrite> pending_;    // event loop only
    std::vector<PendingWrite> in_flight_;  // the task's while running_, else the event loop's
    // A non-cancelable timer armed while writes are outstanding: a worker that is shutting down
    // (reload) waits for it, so every request that was taken gets its answer.
    ngx_event_t keep_alive_{};
};

}  // namespace pushsync::ngx
