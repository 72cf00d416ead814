// SPDX-License-Identifier: BSD-2-Clause
#include "sender/intake/ledger.hpp"

#include <algorithm>

namespace pushsync::sender {

bool Ledger::admit(const OutboxEntry& entry, bool stored) {
    if (!live_.insert(entry.id).second) {
        // A redelivery of a live entry that the consumer is writing again: had its round's
        // removal gone first, that put would bring the entry back into the outbox for good.
        if (!stored) {
            unstored_.insert(entry.id);
            rewritten_.insert(entry.id);
        }
        return false;
    }
    if (!stored) unstored_.insert(entry.id);
    return true;
}

void Ledger::stored_below(std::uint64_t id) { unstored_.erase(unstored_.begin(), unstored_.lower_bound(id)); }

std::vector<std::uint64_t> Ledger::removable() {
    std::vector<std::uint64_t> ids;
    if (unstored_.empty()) {
        ids.swap(to_remove_);
        return ids;
    }
    std::vector<std::uint64_t> later;
    for (const auto id : to_remove_) (unstored_.contains(id) ? later : ids).push_back(id);
    to_remove_.swap(later);
    return ids;
}

void Ledger::open(Round& round) {
    round.id = next_round_++;
    State state;
    state.group = round.group;
    state.entry_ids = round.entry_ids;
    rounds_.emplace(round.id, std::move(state));
    by_group_[round.group].push_back(round.id);
}

void Ledger::add_pushes(std::uint64_t round_id, std::size_t n) {
    if (const auto it = rounds_.find(round_id); it != rounds_.end()) it->second.outstanding += n;
}

void Ledger::close_fanout(std::uint64_t round_id) {
    const auto it = rounds_.find(round_id);
    if (it == rounds_.end()) return;
    it->second.fanout_closed = true;
    maybe_finish(round_id);
}

void Ledger::push_finished(std::uint64_t round_id) {
    const auto it = rounds_.find(round_id);
    if (it == rounds_.end() || it->second.outstanding == 0) return;
    --it->second.outstanding;
    maybe_finish(round_id);
}

void Ledger::maybe_finish(std::uint64_t round_id) {
    const auto it = rounds_.find(round_id);
    if (it == rounds_.end()) return;
    State& state = it->second;
    if (!state.fanout_closed || state.outstanding != 0 || state.finished) return;
    state.finished = true;
    ++finished_rounds_;
    release_prefix(state.group);
}

void Ledger::release_prefix(const std::string& group) {
    const auto git = by_group_.find(group);
    if (git == by_group_.end()) return;
    auto& order = git->second;
    while (!order.empty()) {
        const auto rit = rounds_.find(order.front());
        if (rit != rounds_.end() && !rit->second.finished) break;
        if (rit != rounds_.end()) {
            for (const auto id : rit->second.entry_ids) {
                // A rewritten entry is in the outbox already (an earlier run stored it): the
                // consumer forgetting its put would leave that record behind.
                const bool forgettable = !rit->second.keep_stored && unstored_.contains(id) && !rewritten_.contains(id);
                (forgettable ? finished_unstored_ : to_remove_).push_back(id);
            }
            rounds_.erase(rit);
        }
        order.pop_front();
    }
    if (order.empty()) by_group_.erase(git);
}

void Ledger::keep_stored(std::uint64_t round_id) {
    if (const auto it = rounds_.find(round_id); it != rounds_.end()) it->second.keep_stored = true;
}

std::vector<std::uint64_t> Ledger::take_finished_unstored() {
    std::vector<std::uint64_t> ids;
    ids.swap(finished_unstored_);
    return ids;
}

void Ledger::forget_unstored(std::vector<std::uint64_t> ids,
                             const std::function<std::vector<std::uint64_t>(std::vector<std::uint64_t>)>& forget) {
    if (ids.empty()) return;
    std::vector<std::uint64_t> forgotten;
    if (forget) forgotten = forget(ids);
    std::sort(forgotten.begin(), forgotten.end());
    for (const auto id : ids) {
        if (std::binary_search(forgotten.begin(), forgotten.end(), id)) {
            live_.erase(id);
            unstored_.erase(id);
            rewritten_.erase(id);
        } else {
            to_remove_.push_back(id);
        }
    }
}

void Ledger::flush() {
    std::vector<std::uint64_t> ids = removable();
    if (ids.empty()) return;
    try {
        store_.outbox_remove(ids);
    } catch (...) {
        to_remove_.insert(to_remove_.end(), ids.begin(), ids.end());  // kept for the next flush
        throw;
    }
    forget(ids);
}

std::vector<std::uint64_t> Ledger::take_removals() {
    std::vector<std::uint64_t> ids = removable();
    forget(ids);
    return ids;
}

void Ledger::forget(const std::vector<std::uint64_t>& removed) {
    for (const auto id : removed) {
        live_.erase(id);
        rewritten_.erase(id);
    }
}

}  // namespace pushsync::sender
