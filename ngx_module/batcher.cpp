#include "ngx_module/batcher.hpp"

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

struct TaskContext {
    Batcher* batcher;
};

}  // namespace

Batcher::Batcher(WorkerState& worker, ngx_thread_pool_t* pool, ngx_log_t* log)
    : worker_(worker), pool_(pool), log_(log) {
    keep_alive_.handler = keep_alive;
    keep_alive_.data = this;
    keep_alive_.log = log;
    keep_alive_.cancelable = 0;
}

void Batcher::submit(PendingWrite write, RequestRef ref) {
    ngx_http_request_t* r = write.request;
    pending_.push_back(std::move(write));  // may throw: then nothing was taken
    // From here nothing throws. Counted before post_batch(), which may answer (and finalize) at once.
    if (ref == RequestRef::take) r->main->count++;
    r->main->blocked++;
    if (!running_) post_batch();
}

void Batcher::post_batch() noexcept {
    if (pending_.empty()) return;
    if (task_ == nullptr) {
        // Allocated once from the cycle pool: one batch is in flight at a time, so one task will do.
        task_ = ngx_thread_task_alloc(ngx_cycle->pool, sizeof(TaskContext));
        if (task_ == nullptr) {
            fail_pending();
            return;
        }
        static_cast<TaskContext*>(task_->ctx)->batcher = this;
        task_->handler = run_in_thread;
        task_->event.handler = completed;
        task_->event.data = task_;
        task_->event.log = log_;
    }
    // Opened here on the event loop (store() may open lazily); the task only uses it.
    batch_store_ = worker_.store();
    in_flight_.swap(pending_);
    pending_.clear();
    running_ = true;
    if (!keep_alive_.timer_set) ngx_add_timer(&keep_alive_, keep_alive_ms);
    if (ngx_thread_task_post(pool_, task_) != NGX_OK) {
        // The pool's queue overflowed: answer this batch with an error rather than hang it.
        running_ = false;
        pending_.swap(in_flight_);
        fail_pending();
    }
}

void Batcher::fail_pending() noexcept {
    std::vector<PendingWrite> failed;
    failed.swap(pending_);
    for (auto& w : failed) {
        w.outcome = api::ErrorCode::store_unavailable;
        answer(w);
    }
}

template <class Change, class Commit>
void Batcher::commit_kind(ngx_log_t* log, Commit&& commit) noexcept {
    guard([&] {
        if (batch_store_ == nullptr) throw StoreError(StoreErrc::unavailable, "the device store is not open");
        commit(*batch_store_);
    }, [&](const Failure& failure) noexcept {
        log_failure(log, NGX_LOG_ERR, "store write failed", failure);
        const api::ErrorCode code = store_error_code(failure);
        for (auto& w : in_flight_) {
            if (is<Change>(w)) w.outcome = code;
        }
    });
}

void Batcher::run_in_thread(void* data, ngx_log_t* log) noexcept {
    Batcher& self = *static_cast<TaskContext*>(data)->batcher;
    // Only this thread touches in_flight_ until `completed` runs on the event loop.
    auto& writes = self.in_flight_;
    self.commit_kind<Registration>(log, [&writes](Store& store) {
        std::vector<Registration> batch;
        for (const auto& w : writes) {
            if (const auto* registration = std::get_if<Registration>(&w.change)) batch.push_back(*registration);
        }
        if (batch.empty()) return;
        auto results = store.register_devices(batch, now_unix_ms());
        std::size_t i = 0;
        for (auto& w : writes) {
            if (!is<Registration>(w)) continue;
            RegisterResult& result = results.at(i++);
            if (result.group_full) w.outcome = api::ErrorCode::group_full;
            else w.outcome = std::move(result);
        }
    });
    self.commit_kind<Removal>(log, [&writes](Store& store) {
        std::vector<std::pair<std::string, std::string>> batch;
        for (const auto& w : writes) {
            if (const auto* removal = std::get_if<Removal>(&w.change)) batch.emplace_back(removal->group, removal->token);
        }
        if (batch.empty()) return;
        const auto results = store.unregister_devices(batch);
        std::size_t i = 0;
        for (auto& w : writes) {
            if (is<Removal>(w)) w.outcome = Removed{results.at(i++)};
        }
    });
}

void Batcher::completed(ngx_event_t* event) noexcept {
    auto* task = static_cast<ngx_thread_task_t*>(event->data);
    Batcher& self = *static_cast<TaskContext*>(task->ctx)->batcher;
    std::vector<PendingWrite> done;
    done.swap(self.in_flight_);
    self.running_ = false;
    if (self.log_->log_level >= NGX_LOG_INFO) {
        std::size_t registrations = 0;
        for (const auto& w : done) registrations += is<Registration>(w) ? 1 : 0;
        ngx_log_error(NGX_LOG_INFO, self.log_, 0, "pushsync: write batch committed registrations=%uz unregistrations=%uz",
                      registrations, done.size() - registrations);
    }
    // Start the next transaction before answering: what arrives while we answer joins it.
    self.post_batch();
    for (auto& w : done) self.answer(w);
    if (!self.running_ && self.pending_.empty() && self.keep_alive_.timer_set) {
        ngx_del_timer(&self.keep_alive_);
    }
}

void Batcher::keep_alive(ngx_event_t* event) noexcept {
    auto* self = static_cast<Batcher*>(event->data);
    if (self->running_ || !self->pending_.empty()) ngx_add_timer(event, keep_alive_ms);
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
    pending_.clear();
    in_flight_.clear();
    running_ = false;
}

}  // namespace pushsync::ngx
