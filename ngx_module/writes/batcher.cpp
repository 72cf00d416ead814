// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/writes/batcher.hpp"

#include "ngx_module/guard.hpp"
#include "ngx_module/response.hpp"
#include "ngx_module/worker_state.hpp"

namespace pushsync::ngx {
namespace {

constexpr ngx_msec_t keep_alive_ms = 1000;

api::ErrorCode store_error_code(const Failure& failure) noexcept {
    const auto* e = dynamic_cast<const StoreError*>(failure.exception);
    if (e == nullptr) return api::ErrorCode::internal_error;
    switch (e->code()) {
    case StoreErrc::full:
        return api::ErrorCode::store_full;
    case StoreErrc::unavailable:
        return api::ErrorCode::store_unavailable;
    default:
        return api::ErrorCode::internal_error;
    }
}

template <class Change>
bool is(const PendingWrite& write) noexcept {
    return std::holds_alternative<Change>(write.change);
}

}  // namespace

Batcher::Batcher(WorkerState& worker, ngx_thread_pool_t* pool, ngx_log_t* log)
    : worker_(worker), pool_(pool), log_(log) {
    for (Batch& batch : batches_) batch.batcher = this;
    keep_alive_.handler = keep_alive;
    keep_alive_.data = this;
    keep_alive_.log = log;
    keep_alive_.cancelable = 0;
}

void Batcher::submit(PendingWrite write, RequestRef ref) {
    ngx_http_request_t* r = write.request;
    {
        std::lock_guard lock(pending_mutex_);
        pending_.push_back(std::move(write));  // may throw: then nothing was taken
    }
    // From here nothing throws. Counted before post_batch(), which may answer (and finalize) at once.
    if (ref == RequestRef::take) r->main->count++;
    r->main->blocked++;
    post_batch();
}

void Batcher::post_batch() noexcept {
    {
        std::lock_guard lock(pending_mutex_);
        if (pending_.empty()) return;
        // A task that has not taken its writes yet will take these too.
        for (const Batch& batch : batches_) {
            if (batch.posted && !batch.taken) return;
        }
    }
    for (Batch& batch : batches_) {
        if (batch.posted) continue;
        if (post(batch)) return;
        break;
    }
    // Every task in flight: the first to complete posts again. None, because posting failed (the
    // pool's queue overflowed): answer with an error rather than hang.
    for (const Batch& batch : batches_) {
        if (batch.posted) return;
    }
    fail_pending();
}

bool Batcher::post(Batch& batch) noexcept {
    if (batch.task == nullptr) {
        // The task's context is a pointer to its batch.
        batch.task = ngx_thread_task_alloc(ngx_cycle->pool, sizeof(Batch*));
        if (batch.task == nullptr) return false;
        *static_cast<Batch**>(batch.task->ctx) = &batch;
        batch.task->handler = run_in_thread;
        batch.task->event.handler = completed;
        batch.task->event.data = batch.task;
        batch.task->event.log = log_;
    }
    // Opened here on the event loop (store() may open lazily); the task only uses it.
    batch.store = worker_.store();
    batch.posted = true;
    {
        std::lock_guard lock(pending_mutex_);
        batch.taken = false;
    }
    if (!keep_alive_.timer_set) ngx_add_timer(&keep_alive_, keep_alive_ms);
    if (ngx_thread_task_post(pool_, batch.task) != NGX_OK) {
        batch.posted = false;
        return false;
    }
    return true;
}

bool Batcher::idle() noexcept {
    for (const Batch& batch : batches_) {
        if (batch.posted) return false;
    }
    std::lock_guard lock(pending_mutex_);
    return pending_.empty();
}

void Batcher::fail_pending() noexcept {
    std::vector<PendingWrite> failed;
    {
        std::lock_guard lock(pending_mutex_);
        failed.swap(pending_);
    }
    for (auto& w : failed) {
        w.outcome = api::ErrorCode::store_unavailable;
        answer(w);
    }
}

template <class Change, class Commit>
void Batcher::commit_kind(Batch& batch, ngx_log_t* log, Commit&& commit) noexcept {
    guard([&] {
        if (batch.store == nullptr) throw StoreError(StoreErrc::unavailable, "the device store is not open");
        commit(*batch.store);
    }, [&](const Failure& failure) noexcept {
        log_failure(log, NGX_LOG_ERR, "store write failed", failure);
        const api::ErrorCode code = store_error_code(failure);
        for (auto& w : batch.writes) {
            if (is<Change>(w)) w.outcome = code;
        }
    });
}

void Batcher::run_in_thread(void* data, ngx_log_t* log) noexcept {
    Batch& batch = **static_cast<Batch**>(data);
    Batcher& self = *batch.batcher;
    // Only this thread touches batch.writes until `completed` runs on the event loop.
    auto& writes = batch.writes;
    DeferredSync durable;
    {
        std::lock_guard turn(self.write_turn_);
        {
            std::lock_guard lock(self.pending_mutex_);
            writes.swap(self.pending_);  // writes was left empty by the last completion
            batch.taken = true;
        }
        commit_kind<Registration>(batch, log, [&writes, &durable](Store& store) {
            std::vector<Registration> registrations;
            for (const auto& w : writes) {
                if (const auto* registration = std::get_if<Registration>(&w.change)) {
                    registrations.push_back(*registration);
                }
            }
            if (registrations.empty()) return;
            auto results = store.register_devices(registrations, now_unix_ms(), &durable);
            std::size_t i = 0;
            for (auto& w : writes) {
                if (!is<Registration>(w)) continue;
                RegisterResult& result = results.at(i++);
                if (result.group_full) w.outcome = api::ErrorCode::group_full;
                else w.outcome = std::move(result);
            }
        });
        commit_kind<Removal>(batch, log, [&writes, &durable](Store& store) {
            std::vector<std::pair<std::string, std::string>> removals;
            for (const auto& w : writes) {
                if (const auto* removal = std::get_if<Removal>(&w.change)) removals.emplace_back(removal->group, removal->token);
            }
            if (removals.empty()) return;
            const auto results = store.unregister_devices(removals, &durable);
            std::size_t i = 0;
            for (auto& w : writes) {
                if (is<Removal>(w)) w.outcome = Removed{results.at(i++)};
            }
        });
    }
    // The writer turn is released: the next task writes while this one's commits reach the disk.
    // Its answers wait for that; a sync that fails answers what it would have confirmed with 503.
    guard([&durable] { durable.wait(); }, [&](const Failure& failure) noexcept {
        log_failure(log, NGX_LOG_ERR, "store sync failed", failure);
        for (auto& w : writes) {
            if (!std::holds_alternative<api::ErrorCode>(w.outcome)) w.outcome = api::ErrorCode::store_unavailable;
        }
    });
}

void Batcher::completed(ngx_event_t* event) noexcept {
    auto* task = static_cast<ngx_thread_task_t*>(event->data);
    Batch& batch = **static_cast<Batch**>(task->ctx);
    Batcher& self = *batch.batcher;
    std::vector<PendingWrite> done;
    done.swap(batch.writes);
    batch.posted = false;
    if (self.log_->log_level >= NGX_LOG_INFO && !done.empty()) {
        std::size_t registrations = 0;
        for (const auto& w : done) registrations += is<Registration>(w) ? 1 : 0;
        ngx_log_error(NGX_LOG_INFO, self.log_, 0, "pushsync: write batch committed registrations=%uz unregistrations=%uz",
                      registrations, done.size() - registrations);
    }
    // Post the next task before answering: what arrives while we answer joins it.
    self.post_batch();
    for (auto& w : done) self.answer(w);
    if (self.keep_alive_.timer_set && self.idle()) ngx_del_timer(&self.keep_alive_);
}

void Batcher::keep_alive(ngx_event_t* event) noexcept {
    auto* self = static_cast<Batcher*>(event->data);
    if (!self->idle()) ngx_add_timer(event, keep_alive_ms);
}

void Batcher::answer(PendingWrite& write) noexcept {
    ngx_http_request_t* r = write.request;
    ngx_connection_t* c = r->connection;
    r->main->blocked--;
    const ngx_int_t rc = guard([&] { return send_write_result(r, write); },
                               [r](const Failure& f) noexcept { return answer_failure(r, "answering a write failed", f); });
    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

void Batcher::abandon() noexcept {
    if (keep_alive_.timer_set) ngx_del_timer(&keep_alive_);
    {
        std::lock_guard lock(pending_mutex_);
        pending_.clear();
    }
    for (Batch& batch : batches_) {
        batch.writes.clear();
        batch.posted = false;
    }
}

}  // namespace pushsync::ngx
