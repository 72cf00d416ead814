// SPDX-License-Identifier: BSD-2-Clause
#include "sender/dispatch/holds.hpp"

#include <algorithm>

namespace pushsync::sender {

namespace {
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
// A due hold not in the store yet is looked for again after about one of the writer's commits.
constexpr std::int64_t unwritten_retry_ms = 20;
}  // namespace

Holds::Holds(std::uint32_t interval_s, Deps deps)
    : interval_ms_(static_cast<std::int64_t>(interval_s) * 1000), deps_(std::move(deps)) {}

Holds::~Holds() { deps_.timers.cancel(timer_); }

void Holds::count(metrics::HoldEvent event) noexcept {
    if (deps_.metrics != nullptr) deps_.metrics->count_hold(event);
}

void Holds::set_waiting(std::size_t waiting) noexcept {
    waiting_ = waiting;
    if (deps_.metrics != nullptr) deps_.metrics->set_waiting_pushes(waiting);
}

DeviceBudget Holds::budget_of(const std::string& token, const std::optional<DeviceBudget>& stored) const {
    if (const auto it = budgets_.find(token); it != budgets_.end()) return it->second.budget;
    return stored.value_or(DeviceBudget{});
}

void Holds::put_budget(const std::string& token, const DeviceBudget& budget) {
    BudgetWrite write;
    write.kind = BudgetWrite::Kind::device;
    write.hold.token = token;
    write.device = budget;
    writes_.push_back(std::move(write));
    budgets_[token] = PendingBudget{budget, batch_};
    budget_order_.emplace_back(batch_, token);
}

void Holds::put_hold(HeldPush hold) {
    Key key{hold.due_ms, hold.token};
    BudgetWrite write;
    write.kind = BudgetWrite::Kind::hold;
    write.hold = hold;
    writes_.push_back(std::move(write));
    holds_[key] = PendingHold{std::move(hold), batch_};
    hold_order_.emplace_back(batch_, std::move(key));
}

void Holds::erase_hold(std::int64_t due_ms, const std::string& token) {
    Key key{due_ms, token};
    BudgetWrite write;
    write.kind = BudgetWrite::Kind::release;
    write.hold.due_ms = due_ms;
    write.hold.token = token;
    writes_.push_back(std::move(write));
    holds_[key] = PendingHold{std::nullopt, batch_};
    hold_order_.emplace_back(batch_, std::move(key));
}

bool Holds::filter(const Round& round, std::vector<Target>& targets, std::string_view origin) {
    if (!enabled() || stopped_) return false;
    std::vector<std::string_view> tokens;
    tokens.reserve(targets.size() + 1);
    for (const Target& target : targets) tokens.push_back(target.token);
    if (!origin.empty()) tokens.push_back(origin);
    const std::vector<std::optional<DeviceBudget>> stored = deps_.store.device_budgets(tokens);
    const std::int64_t now = deps_.timers.clock().unix_ms();
    const std::uint64_t tail_id =
        round.entry_ids.empty() ? 0 : *std::max_element(round.entry_ids.begin(), round.entry_ids.end());

    std::size_t kept = 0;
    bool waits = false;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const std::string& token = targets[i].token;
        DeviceBudget budget = budget_of(token, stored[i]);
        if (budget.held_until_ms != 0) {
            wait(token, budget, round, tail_id, budget.held_until_ms);
            waits = true;
        } else if (budget.last_push_ms != 0 && now - budget.last_push_ms < interval_ms_) {
            wait(token, budget, round, tail_id, budget.last_push_ms + interval_ms_);
            waits = true;
        } else {
            budget.last_push_ms = now;
            put_budget(token, budget);
            if (kept != i) targets[kept] = std::move(targets[i]);
            ++kept;
        }
    }
    targets.resize(kept);

    if (!origin.empty()) {
        const std::string token(origin);
        const DeviceBudget budget = budget_of(token, stored.back());
        if (budget.held_until_ms != 0) {
            wait(token, budget, round, tail_id, budget.held_until_ms);
            waits = true;
        }
    }
    return waits;
}

void Holds::wait(const std::string& token, DeviceBudget budget, const Round& round, std::uint64_t tail_id,
                 std::int64_t due_ms) {
    const bool renewing = budget.held_until_ms != 0;
    if (renewing) {
        ++stats_.renewed;
        count(metrics::HoldEvent::merged);
        // A notify older than the waiting push's tail (the queue redelivering after a restart)
        // never replaces it.
        if (tail_id <= budget.held_tail_id) return;
    } else {
        ++stats_.held;
        count(metrics::HoldEvent::held);
        set_waiting(waiting_ + 1);
    }
    budget.held_until_ms = due_ms;
    budget.held_tail_id = tail_id;
    put_budget(token, budget);
    put_hold(HeldPush{due_ms, token, round.group, round.tail, tail_id});
    if (deps_.log.enabled(LogLevel::debug)) {
        deps_.log.debug(renewing ? "push.hold_renewed" : "push.held",
                        "group=" + round.group + " token=" + std::string(token_prefix(token)) + " tail=" + round.tail +
                            " due_ms=" + std::to_string(due_ms));
    }
    if (!renewing) arm(due_ms);
}

void Holds::start() {
    if (!enabled()) return;
    stopped_ = false;
    set_waiting(deps_.store.held_count());
    const std::vector<HeldPush> first = deps_.store.held_pushes(1);
    if (!waiting_) return;
    deps_.log.info("holds.recovered", "waiting=" + std::to_string(waiting_) +
                                          (first.empty() ? "" : " next_due_ms=" + std::to_string(first.front().due_ms)));
    if (!first.empty()) arm(first.front().due_ms);
}

void Holds::stop() {
    stopped_ = true;
    deps_.timers.cancel(timer_);
    timer_ = 0;
    timer_due_ms_ = never;
}

std::int64_t Holds::earliest_unwritten() const {
    for (const auto& [key, pending] : holds_) {
        if (pending.hold && !releasing_keys_.contains(key)) return key.first;
    }
    return never;
}

void Holds::arm(std::int64_t due_ms) {
    if (stopped_ || due_ms == never) return;
    if (timer_ != 0 && timer_due_ms_ <= due_ms) return;
    deps_.timers.cancel(timer_);
    const std::int64_t delay = std::max<std::int64_t>(0, due_ms - deps_.timers.clock().unix_ms());
    timer_due_ms_ = due_ms;
    timer_ = deps_.timers.after(delay, [this] {
        timer_ = 0;
        timer_due_ms_ = never;
        release_due();
    });
}

void Holds::release_due() {
    if (stopped_) return;
    const std::int64_t now = deps_.timers.clock().unix_ms();
    std::size_t room = max_releasing - std::min(max_releasing, releasing_.size());
    backlogged_ = false;
    std::vector<Push> pushes;
    std::int64_t next_due = never;

    // The store's soonest holds past those being released; a hold rewritten or released but not
    // yet stored is read from holds_ instead.
    const std::size_t limit = releasing_keys_.size() + holds_.size() + room + 1;
    const std::vector<HeldPush> stored = deps_.store.held_pushes(limit);
    // The page ended on holds being released or rewritten: the rest are read again soon.
    if (stored.size() == limit) next_due = now + unwritten_retry_ms;
    for (const HeldPush& in_store : stored) {
        Key key{in_store.due_ms, in_store.token};
        if (releasing_keys_.contains(key)) continue;
        const HeldPush* hold = &in_store;
        if (const auto it = holds_.find(key); it != holds_.end()) {
            if (!it->second.hold) continue;
            hold = &*it->second.hold;
        }
        if (hold->due_ms > now) {
            next_due = hold->due_ms;
            break;
        }
        if (room == 0) {
            backlogged_ = true;
            break;
        }
        --room;
        if (auto push = release(*hold, now)) pushes.push_back(std::move(*push));
    }
    // Due holds that the writer has not stored yet.
    std::vector<HeldPush> unwritten;
    for (const auto& [key, pending] : holds_) {
        if (key.first > now) break;
        if (pending.hold && !releasing_keys_.contains(key)) unwritten.push_back(*pending.hold);
    }
    for (const HeldPush& hold : unwritten) {
        if (room == 0) {
            backlogged_ = true;
            break;
        }
        --room;
        if (auto push = release(hold, now)) pushes.push_back(std::move(*push));
    }
    if (!pushes.empty()) deps_.release(std::move(pushes));
    if (backlogged_) return;  // finished() calls again as released pushes finish
    const std::int64_t unwritten_due = earliest_unwritten();
    arm(std::min(next_due, std::max(unwritten_due, unwritten_due == never ? never : now + unwritten_retry_ms)));
}

std::optional<Push> Holds::release(const HeldPush& hold, std::int64_t now) {
    if (waiting_ > 0) set_waiting(waiting_ - 1);
    std::optional<Device> device;
    std::optional<DeviceBudget> stored;
    try {
        device = deps_.store.get_device(hold.token);
        stored = deps_.store.device_budget(hold.token);
    } catch (const StoreError& e) {
        // Left in the store: tried again at the next start.
        deps_.log.error("push.hold_read_failed", "group=" + hold.group + " token=" +
                                                     std::string(token_prefix(hold.token)) + " error=\"" + e.what() + "\"");
        return std::nullopt;
    }
    DeviceBudget budget = budget_of(hold.token, stored);
    if (budget.held_until_ms == hold.due_ms) {
        budget.held_until_ms = 0;
        budget.held_tail_id = 0;
    }
    const std::optional<std::size_t> connection =
        device ? deps_.routes.find(device->platform, device->bundle_id, device->environment) : std::nullopt;
    if (!device || device->group != hold.group || !connection) {
        ++stats_.dropped;
        deps_.log.info("push.hold_dropped", "group=" + hold.group + " token=" + std::string(token_prefix(hold.token)) +
                                                " tail=" + hold.tail + " reason=\"" +
                                                (!device                        ? "device unregistered"
                                                 : device->group != hold.group ? "device moved to another group"
                                                                                : "app or environment not configured") +
                                                "\"");
        count(metrics::HoldEvent::dropped);
        if (device) put_budget(hold.token, budget);
        erase_hold(hold.due_ms, hold.token);
        return std::nullopt;
    }
    ++stats_.released;
    count(metrics::HoldEvent::released);
    budget.last_push_ms = now;
    put_budget(hold.token, budget);
    const std::uint64_t id = released_bit | next_release_++;
    Key key{hold.due_ms, hold.token};
    releasing_.emplace(id, key);
    releasing_keys_.emplace(std::move(key), id);
    return Push{id, hold.group, hold.tail, Target{hold.token, device->bundle_id, device->environment, *connection, device->platform}};
}

void Holds::finished(const Push& push) {
    const auto it = releasing_.find(push.round);
    if (it == releasing_.end()) return;
    const Key key = std::move(it->second);
    releasing_.erase(it);
    releasing_keys_.erase(key);
    erase_hold(key.first, key.second);
    if (backlogged_ && releasing_.size() <= max_releasing / 2) {
        backlogged_ = false;
        arm(deps_.timers.clock().unix_ms());
    }
}

std::vector<BudgetWrite> Holds::take_writes(std::uint64_t generation) {
    taken_.emplace_back(generation, batch_++);
    std::vector<BudgetWrite> writes;
    writes.swap(writes_);
    return writes;
}

void Holds::forget_written(std::uint64_t written_generation) {
    std::uint64_t written_batch = 0;
    while (!taken_.empty() && taken_.front().first <= written_generation) {
        written_batch = taken_.front().second;
        taken_.pop_front();
    }
    if (written_batch == 0) return;
    // Entries rewritten in a later batch stay until that one is stored.
    while (!budget_order_.empty() && budget_order_.front().first <= written_batch) {
        const auto it = budgets_.find(budget_order_.front().second);
        if (it != budgets_.end() && it->second.batch <= written_batch) budgets_.erase(it);
        budget_order_.pop_front();
    }
    while (!hold_order_.empty() && hold_order_.front().first <= written_batch) {
        const auto it = holds_.find(hold_order_.front().second);
        if (it != holds_.end() && it->second.batch <= written_batch) holds_.erase(it);
        hold_order_.pop_front();
    }
}

void Holds::flush() {
    if (writes_.empty()) return;
    const std::uint64_t generation = taken_.empty() ? 1 : taken_.back().first + 1;
    std::vector<BudgetWrite> writes = take_writes(generation);
    try {
        deps_.store.budget_write(writes);
    } catch (...) {
        // Kept for the next flush, ahead of anything newer.
        taken_.pop_back();
        --batch_;
        writes.insert(writes.end(), std::make_move_iterator(writes_.begin()), std::make_move_iterator(writes_.end()));
        writes_ = std::move(writes);
        throw;
    }
    forget_written(generation);
}

}  // namespace pushsync::sender
