// SPDX-License-Identifier: BSD-2-Clause
#include "sender/intake/coalescer.hpp"

#include <algorithm>

namespace pushsync::sender {

Coalescer::Coalescer(std::uint32_t coalesce_ms, TimerQueue& timers, Emit emit)
    : coalesce_ms_(coalesce_ms), timers_(timers), emit_(std::move(emit)) {}

Coalescer::~Coalescer() { drop_all(); }

void Coalescer::merge(Pending& pending, const OutboxEntry& entry) {
    Round& round = pending.round;
    if (round.entry_ids.empty() || entry.id > pending.newest_id) {
        pending.newest_id = entry.id;
        round.tail = entry.tail;
        round.origin = entry.origin;
    }
    if (round.entry_ids.empty() || entry.enqueued_ms < round.first_enqueued_ms) {
        round.first_enqueued_ms = entry.enqueued_ms;
    }
    round.entry_ids.push_back(entry.id);
}

void Coalescer::add(const OutboxEntry& entry) {
    if (coalesce_ms_ == 0) {
        Pending single;
        single.round.group = entry.group;
        merge(single, entry);
        emit_(std::move(single.round));
        return;
    }
    auto [it, fresh] = pending_.try_emplace(entry.group);
    merge(it->second, entry);
    if (fresh) {
        it->second.round.group = entry.group;
        const std::string group = entry.group;
        it->second.timer = timers_.after(coalesce_ms_, [this, group] { emit_group(group); });
    }
}

void Coalescer::emit_group(const std::string& group) {
    const auto it = pending_.find(group);
    if (it == pending_.end()) return;
    Round round = std::move(it->second.round);
    timers_.cancel(it->second.timer);
    pending_.erase(it);
    std::sort(round.entry_ids.begin(), round.entry_ids.end());
    emit_(std::move(round));
}

void Coalescer::flush_all() {
    std::vector<std::string> groups;
    groups.reserve(pending_.size());
    for (const auto& [group, pending] : pending_) groups.push_back(group);
    for (const auto& group : groups) emit_group(group);
}

void Coalescer::drop_all() {
    for (auto& [group, pending] : pending_) timers_.cancel(pending.timer);
    pending_.clear();
}

}  // namespace pushsync::sender
