// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Group commit: registrations and unregistrations wait in the worker; a write task on the thread
// pool takes every pending write and commits them in one LMDB transaction per kind. Two tasks may
// be in flight: the second takes its writes and begins its transaction as soon as the first has
// committed (LMDB's writer lock released), while the first still waits for its meta page's fsync.
// Each task's completion (back on the event loop) answers its own requests, only once their
// transaction is on disk, after posting the next task for whatever arrived meanwhile. The event
// loop never waits for the disk.
#include <array>
#include <mutex>
#include <vector>

#include "ngx_module/ngx_headers.hpp"
#include "ngx_module/writes/pending_write.hpp"
#include "shared/store/store.hpp"

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
    // One write task: the writes it took and, once it ran, what the store did with them.
    struct Batch {
        Batcher* batcher = nullptr;
        ngx_thread_task_t* task = nullptr;  // allocated once from the cycle pool, then reused
        Store* store = nullptr;             // opened on the event loop when posted; the task only uses it
        bool posted = false;                // event loop only: queued or running on the pool
        bool taken = false;                 // pending_mutex_: the task has taken its writes
        std::vector<PendingWrite> writes;   // the task's while posted, else the event loop's
    };
    // A second one overlaps the first's meta-page fsync; a third would only wait for the writer turn.
    static constexpr std::size_t max_in_flight = 2;

    static void run_in_thread(void* data, ngx_log_t* log) noexcept;  // thread pool: the transactions
    static void completed(ngx_event_t* event) noexcept;             // event loop: the answers
    static void keep_alive(ngx_event_t* event) noexcept;
    // Posts a task for the pending writes when fewer than max_in_flight are in flight.
    void post_batch() noexcept;
    bool post(Batch& batch) noexcept;
    bool idle() noexcept;      // nothing pending, no task in flight
    void fail_pending() noexcept;  // answers every pending write with 503
    void answer(PendingWrite& write) noexcept;
    // One transaction for the writes of one kind in the batch; a failure fails them all.
    template <class Change, class Commit>
    static void commit_kind(Batch& batch, ngx_log_t* log, Commit&& commit) noexcept;

    WorkerState& worker_;
    ngx_thread_pool_t* pool_;
    ngx_log_t* log_;
    std::array<Batch, max_in_flight> batches_;
    std::mutex pending_mutex_;          // the event loop adds to pending_, a task takes all of it
    std::vector<PendingWrite> pending_;
    // Held by a task from taking its writes until its transactions committed: batches commit in
    // the order they took their writes, so a later one reads what an earlier one wrote.
    std::mutex write_turn_;
    // A non-cancelable timer armed while writes are outstanding: a worker that is shutting down
    // (reload) waits for it, so every request that was taken gets its answer.
    ngx_event_t keep_alive_{};
};

}  // namespace pushsync::ngx
