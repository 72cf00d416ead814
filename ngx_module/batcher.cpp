#include "ngx_module/batcher.hpp"

#include <exception>

#include "ngx_module/response.hpp"
#include "ngx_module/worker_state.hpp"

namespace pushsync::ngx {
namespace {

constexpr ngx_msec_t keep_alive_ms = 1000;

api::ApiError store_error(const StoreError& e) {
    switch (e.code()) {
    case StoreErrc::full:
        return {507, "store_full", "the device store is full", {}};
    case StoreErrc::unavailable:
        return {503, "store_unavailable", "the device store is unavailable", {}};
    default:
        return {500, "internal_error", "the device store failed", {}};
    }
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
        w.failed = true;
        try {
            w.error = api::ApiError{503, "store_unavailable", "the write could not be started; try again", {}};
        } catch (...) {
            // answer() still finalizes the request: with a 500 when even the error cannot be built
        }
        answer(w);
    }
}

void Batcher::run_in_thread(void* data, ngx_log_t* log) noexcept {
    Batcher& self = *static_cast<TaskContext*>(data)->batcher;
    // Only this thread touches in_flight_ until `completed` runs on the event loop.
    // Marks the writes of one kind failed (no allocation), then attaches the contract error when it
    // can be built: a bad_alloc here must neither escape this noexcept function nor leave a write
    // looking like a success.
    const auto fail = [&self](auto&& is_affected, auto&& make_error) noexcept {
        for (auto& w : self.in_flight_) {
            if (is_affected(w)) w.failed = true;
        }
        try {
            const api::ApiError error = make_error();
            for (auto& w : self.in_flight_) {
                if (is_affected(w)) w.error = error;
            }
        } catch (...) {
            // `failed` answers 500
        }
    };
    const auto internal = [] { return api::ApiError{500, "internal_error", "the device store failed", {}}; };
    std::vector<Registration> registrations;
    std::vector<std::pair<std::string, std::string>> removals;
    try {
        for (auto& w : self.in_flight_) {
            if (w.is_register) registrations.push_back(w.registration);
            else removals.emplace_back(w.group, w.token);
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "pushsync: write batch failed: %s", e.what());
        fail([](const PendingWrite&) noexcept { return true; }, internal);
        return;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "pushsync: write batch failed: unknown exception");
        fail([](const PendingWrite&) noexcept { return true; }, internal);
        return;
    }
    Store* store = self.batch_store_;
    const auto run = [&](bool registering, auto&& body) noexcept {
        const auto of_kind = [registering](const PendingWrite& w) noexcept { return w.is_register == registering; };
        try {
            if (store == nullptr) {
                fail(of_kind, [] { return api::ApiError{503, "store_unavailable", "the device store is unavailable", {}}; });
                return;
            }
            body();
        } catch (const StoreError& e) {
            ngx_log_error(NGX_LOG_ERR, log, 0, "pushsync: store write failed: %s", e.what());
            fail(of_kind, [&e] { return store_error(e); });
        } catch (const std::exception& e) {
            ngx_log_error(NGX_LOG_ERR, log, 0, "pushsync: store write failed: %s", e.what());
            fail(of_kind, internal);
        } catch (...) {
            ngx_log_error(NGX_LOG_ERR, log, 0, "pushsync: store write failed: unknown exception");
            fail(of_kind, internal);
        }
    };
    if (!registrations.empty()) {
        run(true, [&] {
            auto results = store->register_devices(registrations, now_unix_ms());
            std::size_t i = 0;
            for (auto& w : self.in_flight_) {
                if (w.is_register) w.registered = std::move(results.at(i++));
            }
        });
    }
    if (!removals.empty()) {
        run(false, [&] {
            const auto results = store->unregister_devices(removals);
            std::size_t i = 0;
            for (auto& w : self.in_flight_) {
                if (!w.is_register) w.removed = results.at(i++);
            }
        });
    }
}

void Batcher::completed(ngx_event_t* event) noexcept {
    auto* task = static_cast<ngx_thread_task_t*>(event->data);
    Batcher& self = *static_cast<TaskContext*>(task->ctx)->batcher;
    std::vector<PendingWrite> done;
    done.swap(self.in_flight_);
    self.running_ = false;
    if (self.log_->log_level >= NGX_LOG_INFO) {
        std::size_t registrations = 0;
        for (const auto& w : done) registrations += w.is_register ? 1 : 0;
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
    ngx_int_t rc = NGX_ERROR;
    try {
        rc = send_write_result(r, write);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "pushsync: answering failed: %s", e.what());
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    } catch (...) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
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
