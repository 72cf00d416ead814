#pragma once
// The queue consumer: a thread that blocks in Queue::read, writes each batch into the store's
// outbox in one transaction, commits the queue past it, and only then hands the entries on
// (the daemon's ev_async). A sender killed at any point redelivers: what the queue still holds
// was never committed, what was committed is in the outbox.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "sender/logger.hpp"
#include "shared/queue.hpp"
#include "shared/store.hpp"

namespace pushsync::sender {

class QueueConsumer {
public:
    using Handoff = std::function<void(std::vector<OutboxEntry> entries)>;

    QueueConsumer(Queue& queue, Store& store, Logger& log, Handoff handoff, std::size_t batch = 1024);
    ~QueueConsumer();  // stop()
    QueueConsumer(const QueueConsumer&) = delete;
    QueueConsumer& operator=(const QueueConsumer&) = delete;

    void start();
    // Stops taking entries and joins the thread; a batch read but not yet in the outbox stays
    // uncommitted in the queue.
    void stop();
    std::uint64_t taken() const noexcept { return taken_.load(); }

private:
    void run();
    bool pause(std::chrono::milliseconds how_long);  // false: stopping

    Queue& queue_;
    Store& store_;
    Logger& log_;
    Handoff handoff_;
    std::size_t batch_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> taken_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::thread thread_;
};

}  // namespace pushsync::sender
