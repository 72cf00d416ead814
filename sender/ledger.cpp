#include "sender/ledger.hpp"

namespace pushsync::sender {

bool Ledger::admit(const OutboxEntry& entry) { return live_.insert(entry.id).second; }

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
            for (const auto id : rit->second.entry_ids) to_remove_.push_back(id);
            rounds_.erase(rit);
        }
        order.pop_front();
    }
    if (order.empty()) by_group_.erase(git);
}

void Ledger::flush() {
    if (to_remove_.empty()) return;
    store_.outbox_remove(to_remove_);
    for (const auto id : to_remove_) live_.erase(id);
    to_remove_.clear();
}

}  // namespace pushsync::sender

namespace pushsync::sender {

std::vector<std::uint64_t> Ledger::take_removals() {
    std::vector<std::uint64_t> ids = std::move(to_remove_);
    to_remove_.clear();
    for (const auto id : ids) live_.erase(id);
    return ids;
}

}  // namespace pushsync::sender
