#include "sender/consumer.hpp"

namespace pushsync::sender {

QueueConsumer::QueueConsumer(Queue& queue, Store& store, Logger& log, Handoff handoff, Stored stored,
                             std::size_t batch)
    : queue_(queue), store_(store), log_(log), handoff_(std::move(handoff)), stored_(std::move(stored)), batch_(batch) {}

QueueConsumer::~QueueConsumer() { stop(); }

void QueueConsumer::start() {
    if (thread_.joinable()) return;
    stop_ = false;
    thread_ = std::thread([this] { run(); });
}

void QueueConsumer::stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    queue_.wake_consumer();
    if (thread_.joinable()) thread_.join();
}

bool QueueConsumer::pause(std::chrono::milliseconds how_long) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, how_long, [this] { return stop_.load(); });
}

void QueueConsumer::run() {
    std::vector<QueuedNotify> read;
    std::vector<OutboxEntry> entries;
    std::chrono::milliseconds store_backoff{100};
    while (!stop_) {
        if (entries.empty()) {
            read.clear();
            if (queue_.read(read, batch_, std::chrono::milliseconds(500)) == 0) {
                // A reset file answers at once and forever: wait for the daemon to reopen the path.
                if (queue_.retired() && !pause(std::chrono::milliseconds(100))) break;
                continue;
            }
            entries.reserve(read.size());
            for (QueuedNotify& notify : read) {
                entries.push_back(OutboxEntry{notify.position, std::move(notify.group), std::move(notify.tail),
                                              std::move(notify.origin), notify.enqueued_ms});
            }
            handoff_(entries);
        }
        try {
            store_.outbox_put(entries);
        } catch (const StoreError& e) {
            // Not committed: the entries stay in the ring (and in `entries`) until the store takes them.
            log_.error("outbox.put_failed", "entries=" + std::to_string(entries.size()) + " error=\"" + e.what() +
                                                "\" retry_ms=" + std::to_string(store_backoff.count()));
            if (!pause(store_backoff)) break;
            store_backoff = std::min(store_backoff * 2, std::chrono::milliseconds(5000));
            continue;
        }
        store_backoff = std::chrono::milliseconds(100);
        queue_.commit(entries.back().id + 1);
        taken_ += entries.size();
        log_.debug("queue.taken", "entries=" + std::to_string(entries.size()) + " first=" +
                                      std::to_string(entries.front().id) + " last=" + std::to_string(entries.back().id));
        if (stored_) stored_(entries.back().id + 1);
        entries.clear();
    }
}

}  // namespace pushsync::sender
