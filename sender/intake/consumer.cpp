// SPDX-License-Identifier: BSD-2-Clause
#include "sender/intake/consumer.hpp"

#include <algorithm>

#include "sender/move_append.hpp"
#include "shared/log_escape.hpp"

namespace pushsync::sender {

QueueConsumer::QueueConsumer(Queue& queue, Store& store, Logger& log, Handoff handoff, Stored stored,
                             std::chrono::milliseconds store_delay, std::size_t batch)
    : queue_(queue), store_(store), log_(log), handoff_(std::move(handoff)), stored_(std::move(stored)),
      store_delay_(store_delay), batch_(batch) {}

QueueConsumer::~QueueConsumer() { stop(); }

void QueueConsumer::bound_loop(std::size_t max_entries, InLoop in_loop, Handoff hand_back,
                               std::optional<std::uint64_t> divert_from) {
    max_in_loop_ = max_entries;
    in_loop_ = std::move(in_loop);
    hand_back_ = std::move(hand_back);
    if (divert_from && max_entries != 0) {
        diverting_ = true;
        reload_from_ = diverted_end_ = *divert_from;
        log_.info("loop.overflow", "first=" + std::to_string(reload_from_) + " max=" + std::to_string(max_entries) +
                                       " action=\"the outbox's later entries come back when the loop has room\"");
    }
}

void QueueConsumer::start() {
    if (thread_.joinable()) return;
    stop_ = false;
    {
        std::lock_guard lock(mutex_);
        writer_stop_ = false;
    }
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

bool QueueConsumer::pause(std::chrono::microseconds how_long) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, how_long, [this] { return stop_.load(); });
}

void QueueConsumer::run() {
    std::thread writer([this] { write_outbox(); });
    std::vector<QueuedNotify> read;
    std::uint64_t committed = 0;  // what this thread has committed in the queue
    std::uint64_t handed = 0;     // the end of what it has handed to the outbox writer
    bool broken_reported = false;
    auto commit_stored = [&] {
        std::uint64_t stored = stored_below_.load(std::memory_order_acquire);
        // Nothing handed over still waits for the outbox: the slots read since without an entry
        // (refused, or passed over) may go too, else a run of them would hold the ring full.
        if (stored >= handed) stored = std::max(stored, queue_.read_position());
        if (stored <= committed) return;
        queue_.commit(stored);
        committed = stored;
        if (stored_) stored_(stored);
    };
    // Entries in the outbox below this were stored by an earlier run (or redelivered and stored again).
    stored_floor_ = queue_.committed_position();
    while (!stop_) {
        commit_stored();
        if (diverting_) hand_back();
        read.clear();
        // The writer wakes this read when it has stored something; the timeout only bounds the nap.
        auto wait = handed > committed ? store_delay_ : std::chrono::milliseconds(500);
        if (diverting_) wait = std::min<std::chrono::milliseconds>(wait, kHandBackPoll);
        const std::size_t n = queue_.read(read, batch_, wait);
        report_rejected();
        if (n == 0) {
            // A reset or broken file answers at once and forever: wait for the daemon to reopen the path.
            if (queue_.retired()) {
                if (!broken_reported) {
                    const std::string why = queue_.broken_reason();
                    if (!why.empty()) log_.error("queue.broken", "path=" + log_value(queue_.path()) + " error=\"" + log_escape(why) + "\"");
                    broken_reported = true;
                }
                if (!pause(std::chrono::milliseconds(100))) break;
            }
            continue;
        }
        std::vector<OutboxEntry> entries;
        entries.reserve(read.size());
        for (QueuedNotify& notify : read) {
            entries.push_back(OutboxEntry{notify.position, std::move(notify.group), std::move(notify.tail),
                                          std::move(notify.origin), notify.enqueued_ms});
        }
        handed = entries.back().id + 1;
        const std::size_t direct = direct_part(entries);
        if (direct == entries.size()) {
            handoff_(entries);
        } else if (direct > 0) {
            handoff_(std::vector<OutboxEntry>(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(direct)));
        }
        bool writer_idle = false;
        {
            std::lock_guard lock(mutex_);
            writer_idle = unwritten_.empty();
            if (writer_idle) unwritten_since_ = std::chrono::steady_clock::now();
            move_append(unwritten_, std::move(entries));
            handed_end_ = handed;
        }
        // A writer with entries already waiting wakes by their delay, and takes these too.
        if (writer_idle) wake_.notify_all();
        // Busy: a moment's nap lets the next notifies gather in the ring, so one wake-up, one
        // handoff and one loop iteration serve several, and producers make no futex wake (nobody
        // is announced asleep). The first notify after a quiet spell still goes at once.
        if (n < batch_ && !pause(kGatherWindow)) break;
    }
    // The writer stores what it was handed (unless the store refuses until now); then the last commit.
    {
        std::lock_guard lock(mutex_);
        writer_stop_ = true;
    }
    wake_.notify_all();
    writer.join();
    commit_stored();
}

std::size_t QueueConsumer::direct_part(const std::vector<OutboxEntry>& entries) {
    if (max_in_loop_ == 0) return entries.size();
    std::size_t direct = 0;
    if (!diverting_) {
        const std::size_t in_loop = in_loop_();
        direct = std::min(entries.size(), in_loop < max_in_loop_ ? max_in_loop_ - in_loop : 0);
        if (direct == entries.size()) return direct;
        diverting_ = true;
        reload_from_ = entries[direct].id;
        log_.info("loop.overflow", "first=" + std::to_string(reload_from_) + " in_loop=" + std::to_string(in_loop) +
                                       " max=" + std::to_string(max_in_loop_) +
                                       " action=\"later notifies wait in the outbox until the loop has room\"");
    }
    diverted_end_ = std::max(diverted_end_, entries.back().id + 1);
    diverted_ += entries.size() - direct;
    return direct;
}

void QueueConsumer::hand_back() {
    const std::size_t in_loop = in_loop_ ? in_loop_() : 0;
    // Back in chunks: below 3/4 of the bound, up to the bound.
    if (in_loop > max_in_loop_ - max_in_loop_ / 4) return;
    const std::size_t room = max_in_loop_ - in_loop;
    const std::uint64_t stored_end = std::max(stored_below_.load(std::memory_order_acquire), stored_floor_);
    std::vector<OutboxEntry> back;
    try {
        back = store_.outbox_load_range(reload_from_, stored_end, room);
    } catch (const StoreError& e) {
        // Read again at the next poll; the entries stay in the outbox.
        if (!hand_back_failed_) log_.error("outbox.load_failed", "first=" + std::to_string(reload_from_) + " error=\"" + log_escape(e.what()) + "\"");
        hand_back_failed_ = true;
        return;
    }
    hand_back_failed_ = false;
    const std::size_t n = back.size();
    if (n > 0) {
        reload_from_ = back.back().id + 1;
        handed_back_ += n;
        hand_back_(std::move(back));
    }
    // Fewer than asked for: every stored entry below stored_end is back.
    if (n < room) reload_from_ = std::max(reload_from_, stored_end);
    // None is left once every id diverted (and every one an earlier run stored) is back.
    if (reload_from_ < diverted_end_ || reload_from_ < stored_floor_) return;
    diverting_ = false;
    const std::uint64_t diverted = diverted_.load();
    handed_back_.store(diverted);  // redelivered duplicates were stored once, counted twice
    log_.info("loop.overflow_over", "diverted=" + std::to_string(diverted) + " below=" + std::to_string(reload_from_));
}

void QueueConsumer::report_rejected() {
    auto rejected = queue_.take_rejected();
    if (rejected.empty()) return;
    rejected_ += rejected.size();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_rejected_log_ < kRejectedLogInterval) {
        unreported_rejected_ += rejected.size();
        return;
    }
    last_rejected_log_ = now;
    // One line per interval, for the first slot; the rest are counted (queue.rejected_slots).
    const RejectedSlot& first = rejected.front();
    log_.warn("queue.slot_rejected", "position=" + std::to_string(first.position) + " why=" + log_value(first.why) +
                                         " group=" + log_value(first.group) + " tail=" + log_value(first.tail) +
                                         " also_rejected=" + std::to_string(rejected.size() - 1 + unreported_rejected_));
    unreported_rejected_ = 0;
}

std::vector<std::uint64_t> QueueConsumer::forget_unwritten(std::vector<std::uint64_t> finished_ids) {
    std::vector<std::uint64_t> forgotten;
    bool nothing_left = false;
    {
        std::lock_guard lock(mutex_);
        if (unwritten_.empty()) return forgotten;
        for (const auto id : finished_ids) {
            const auto it = std::lower_bound(unwritten_.begin(), unwritten_.end(), id,
                                             [](const OutboxEntry& entry, std::uint64_t value) { return entry.id < value; });
            if (it == unwritten_.end() || it->id != id) continue;  // being stored already
            forgotten.push_back(id);
            forgotten_.push_back(id);  // left out when the writer takes unwritten_
        }
        nothing_left = forgotten_.size() == unwritten_.size();
    }
    if (nothing_left) wake_.notify_all();  // the writer reports them at once
    return forgotten;
}

void QueueConsumer::write_outbox() {
    std::chrono::milliseconds store_backoff{100};
    std::vector<OutboxEntry> entries;
    std::uint64_t entries_end = 0;  // what the queue may be committed below once `entries` are stored
    for (;;) {
        if (entries.empty()) {
            std::unique_lock lock(mutex_);
            for (;;) {
                if (unwritten_.size() == forgotten_.size() && handed_end_ > stored_below_.load()) break;  // all forgotten
                if (!unwritten_.empty() &&
                    (writer_stop_ || std::chrono::steady_clock::now() >= unwritten_since_ + store_delay_)) {
                    break;
                }
                if (writer_stop_ && unwritten_.empty()) return;
                if (unwritten_.empty()) {
                    wake_.wait(lock);
                } else {
                    wake_.wait_until(lock, unwritten_since_ + store_delay_);
                }
            }
            entries.swap(unwritten_);
            entries_end = handed_end_;
            if (!forgotten_.empty()) {
                std::sort(forgotten_.begin(), forgotten_.end());
                std::erase_if(entries, [this](const OutboxEntry& entry) {
                    return std::binary_search(forgotten_.begin(), forgotten_.end(), entry.id);
                });
                forgotten_.clear();
            }
        }
        if (!entries.empty()) {
            try {
                // Everything handed over while the previous write ran goes in one transaction.
                store_.outbox_put(entries);
            } catch (const StoreError& e) {
                // Not committed: the entries stay in the ring (and in `entries`) until the store takes them.
                log_.error("outbox.put_failed", "entries=" + std::to_string(entries.size()) + " error=\"" +
                                                    log_escape(e.what()) + "\" retry_ms=" + std::to_string(store_backoff.count()));
                std::unique_lock lock(mutex_);
                if (wake_.wait_for(lock, store_backoff, [this] { return writer_stop_; })) return;
                store_backoff = std::min(store_backoff * 2, std::chrono::milliseconds(5000));
                continue;
            }
            store_backoff = std::chrono::milliseconds(100);
            log_.debug("queue.taken", "entries=" + std::to_string(entries.size()) + " first=" +
                                          std::to_string(entries.front().id) + " last=" + std::to_string(entries.back().id));
        }
        stored_below_.store(entries_end, std::memory_order_release);
        queue_.wake_consumer();  // the reader commits at once instead of at its next look
        entries.clear();
    }
}

}  // namespace pushsync::sender
