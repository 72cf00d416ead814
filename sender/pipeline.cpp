// SPDX-License-Identifier: BSD-2-Clause
#include "sender/pipeline.hpp"

#include <algorithm>
#include <map>

#include "sender/move_append.hpp"
#include "shared/log_escape.hpp"

namespace pushsync::sender {

namespace {

// How soon a fan-out that waits for the writer looks again (the writer commits every ~20 ms).
constexpr std::int64_t writer_retry_ms = 5;

DispatchSettings dispatch_settings(const Config& config) {
    DispatchSettings settings;
    settings.expiration_s = config.delivery.expiration_s;
    settings.max_attempts = std::max<std::uint32_t>(1, config.delivery.max_attempts);
    return settings;
}

std::vector<std::string> connection_names(const Routes& routes) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < routes.connections().size(); ++i) {
        names.push_back(routes.apps_of(i) + "/" + std::string(to_string(routes.connections()[i].environment)));
    }
    return names;
}

}  // namespace

Pipeline::Pipeline(const Config& config, Deps deps) : Pipeline(config, Routes(config), std::move(deps)) {}

Pipeline::Pipeline(const Config& config, Routes routes, Deps deps)
    : deps_(std::move(deps)),
      routes_(std::move(routes)),
      backoff_(config.delivery.retry_base_ms, config.delivery.retry_max_ms, deps_.random),
      dedupe_(deps_.store),
      ledger_(deps_.store),
      fanout_(deps_.store, routes_),
      recorder_(deps_.timers.clock(), deps_.metrics),
      coalescer_(config.delivery.coalesce_ms, deps_.timers, [this](Round round) { run_round(std::move(round)); }) {
    recorder_.add_apps(config);
    dispatcher_ = std::make_unique<Dispatcher>(
        Dispatcher::Deps{deps_.store, dedupe_, deps_.timers, backoff_, deps_.log, deps_.count,
                         [this](const Push& push, Outcome) {
                             if (Holds::owns(push.round)) {
                                 holds_->finished(push);
                             } else {
                                 ledger_.push_finished(push.round);
                             }
                         },
                         &recorder_},
        dispatch_settings(config), routes_.connections(), deps_.factory, connection_names(routes_));
    holds_ = std::make_unique<Holds>(
        config.delivery.device_min_interval_s,
        Holds::Deps{deps_.store, deps_.timers, deps_.log, routes_,
                    [this](std::vector<Push> pushes) { dispatcher_->submit(std::move(pushes)); }, deps_.metrics});
}

std::size_t Pipeline::reconfigure(const Config& config, Routes routes) {
    if (stopping_) return 0;
    const std::vector<ConnectionConfig>& now = routes_.connections();
    const std::vector<ConnectionConfig>& next = routes.connections();
    std::vector<std::optional<std::size_t>> reuse(next.size());
    std::vector<bool> taken(now.size(), false);
    std::size_t replaced = now.size();
    for (std::size_t j = 0; j < next.size(); ++j) {
        for (std::size_t i = 0; i < now.size(); ++i) {
            if (taken[i] || !same_connection(now[i], next[j])) continue;
            taken[i] = true;
            reuse[j] = i;
            --replaced;
            break;
        }
    }
    dispatcher_->reconfigure(dispatch_settings(config), next, reuse, deps_.factory, connection_names(routes),
                             [&routes](const Target& target) { return routes.find(target.platform, target.bundle_id, target.environment); });
    routes_ = std::move(routes);  // fanout_ reads it through its reference from now on
    recorder_.add_apps(config);  // new apps get their metrics cells
    backoff_.configure(config.delivery.retry_base_ms, config.delivery.retry_max_ms);
    coalescer_.set_window(config.delivery.coalesce_ms);
    // Their connection indices were the old routes': each round's next page paces on the new ones.
    for (Expansion& expansion : expanding_) expansion.connections.clear();
    return replaced;
}

Pipeline::~Pipeline() {
    deps_.timers.cancel(writer_retry_);
    coalescer_.drop_all();
    holds_->stop();
    dispatcher_.reset();
}

std::size_t Pipeline::recover(std::size_t limit) {
    const std::vector<OutboxEntry> entries = deps_.store.outbox_load(limit);
    if (!entries.empty()) recovered_below_ = entries.back().id + 1;
    // Per group, everything left merges into one round: the newest tail supersedes the rest.
    std::map<std::string, Round> rounds;
    std::map<std::string, std::uint64_t> newest;
    for (const OutboxEntry& entry : entries) {
        if (!ledger_.admit(entry)) continue;
        Round& round = rounds[entry.group];
        if (round.entry_ids.empty() || entry.id > newest[entry.group]) {
            newest[entry.group] = entry.id;
            round.tail = entry.tail;
            round.origin = entry.origin;
        }
        if (round.entry_ids.empty() || entry.enqueued_ms < round.first_enqueued_ms) {
            round.first_enqueued_ms = entry.enqueued_ms;
        }
        round.group = entry.group;
        round.entry_ids.push_back(entry.id);
    }
    if (!entries.empty()) {
        deps_.log.info("outbox.recovered",
                       "entries=" + std::to_string(entries.size()) + " groups=" + std::to_string(rounds.size()));
    }
    for (auto& [group, round] : rounds) {
        std::sort(round.entry_ids.begin(), round.entry_ids.end());
        run_round(std::move(round));
    }
    holds_->start();
    return entries.size();
}

void Pipeline::accept(const std::vector<OutboxEntry>& entries, bool stored) {
    if (stopping_) return;  // in the outbox or still in the queue: the next start delivers them
    for (const OutboxEntry& entry : entries) {
        if (ledger_.admit(entry, stored)) coalescer_.add(entry);
    }
}

void Pipeline::run_round(Round round) {
    if (stopping_) return;
    ledger_.open(round);
    // In order behind those already waiting for room in the backlog; the newest of a group
    // stops the older ones when its turn comes.
    newest_waiting_[round.group] = round.id;
    waiting_.push_back(std::move(round));
    expand();
}

void Pipeline::start_waiting() {
    while (!waiting_.empty() && !stopping_) {
        const auto newest = newest_waiting_.find(waiting_.front().group);
        if (newest != newest_waiting_.end() && newest->second != waiting_.front().id) {
            // A newer round of its group waits behind it and reaches every device: none needed.
            ledger_.close_fanout(waiting_.front().id);
            waiting_.pop_front();
            continue;
        }
        if (dispatcher_->backlog() >= max_backlog || !holds_->has_room()) return;
        Round round = std::move(waiting_.front());
        waiting_.pop_front();
        newest_waiting_.erase(round.group);
        // Looked for only when the group has one: while the fan-out waits (for the writer, or
        // for room on the wire), thousands of rounds of other groups may be expanding.
        if (expanding_groups_.contains(round.group)) {
            for (auto it = expanding_.begin(); it != expanding_.end();) {
                if (it->round.group == round.group) {
                    ledger_.close_fanout(it->round.id);
                    forget_expanding(it->round.group);
                    it = expanding_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        Expansion expansion{std::move(round), {}, {}};
        if (expand_page(expansion)) continue;  // its first page was its last
        ++expanding_groups_[expansion.round.group];
        expanding_.push_back(std::move(expansion));
    }
}

void Pipeline::forget_expanding(const std::string& group) {
    const auto it = expanding_groups_.find(group);
    if (it != expanding_groups_.end() && --it->second == 0) expanding_groups_.erase(it);
}

void Pipeline::expand() {
    start_waiting();
    // No page while the holds' writes wait for the writer: not even a turn through the rounds.
    waiting_for_writer_ = (!expanding_.empty() || !waiting_.empty()) && !holds_->has_room();
    if (waiting_for_writer_) return;
    for (bool progress = true; progress && !stopping_;) {
        progress = false;
        for (std::size_t turns = expanding_.size(); turns > 0 && !stopping_; --turns) {
            Expansion expansion = std::move(expanding_.front());
            expanding_.pop_front();
            if (wants_page(expansion)) {
                progress = true;
                if (expand_page(expansion)) {
                    forget_expanding(expansion.round.group);
                    continue;
                }
            }
            expanding_.push_back(std::move(expansion));
        }
    }
    waiting_for_writer_ = (!expanding_.empty() || !waiting_.empty()) && !holds_->has_room();
}

bool Pipeline::wants_page(const Expansion& expansion) const {
    if (!holds_->has_room()) return false;
    if (expansion.connections.empty()) return true;  // nothing routable so far
    return std::any_of(expansion.connections.begin(), expansion.connections.end(),
                       [this](std::size_t connection) { return dispatcher_->has_room(connection); });
}

bool Pipeline::expand_page(Expansion& expansion) {
    const Round& round = expansion.round;
    FanOutResult result;
    try {
        result = fanout_.expand(round, expansion.after, fanout_page);
    } catch (const StoreError& e) {
        // The round stays open, its entries in the outbox: the next start delivers them.
        deps_.log.error("round.fanout_failed", "group=" + log_value(round.group) + " error=\"" + log_escape(e.what()) + "\"");
        return true;
    }
    for (const Device& device : result.unroutable) {
        if (deps_.count) deps_.count(Counter::pushes_failed, 1);
        recorder_.unroutable(round.group, device.token);
        deps_.log.warn("push.unroutable", "group=" + log_value(round.group) + " token=" + log_value(token_prefix(device.token)) +
                                              " bundle_id=" + log_value(device.bundle_id) + " environment=" +
                                              std::string(to_string(device.environment)) +
                                              " reason=\"app or environment not configured\"");
    }
    if (deps_.log.enabled(LogLevel::debug)) deps_.log.debug("round.fanout", "group=" + log_value(round.group) + " tail=" + log_value(round.tail) +
                                        " notifies=" + std::to_string(round.entry_ids.size()) +
                                        " devices=" + std::to_string(result.targets.size()) +
                                        " unroutable=" + std::to_string(result.unroutable.size()) +
                                        " more=" + (result.resume_after ? "1" : "0"));
    // Devices within their push budget wait in the store; their part of the round is done.
    if (holds_->filter(round, result.targets, result.origin_skipped ? std::string_view(round.origin) : std::string_view())) {
        ledger_.keep_stored(round.id);
    }
    ledger_.add_pushes(round.id, result.targets.size());
    std::vector<Push> pushes;
    pushes.reserve(result.targets.size());
    for (Target& target : result.targets) {
        if (std::find(expansion.connections.begin(), expansion.connections.end(), target.connection) ==
            expansion.connections.end()) {
            expansion.connections.push_back(target.connection);
        }
        pushes.push_back(Push{round.id, round.group, round.tail, std::move(target), round.first_enqueued_ms});
    }
    dispatcher_->submit(std::move(pushes));
    if (result.resume_after) {
        expansion.after = std::move(*result.resume_after);
        return false;
    }
    ledger_.close_fanout(round.id);
    return true;
}

void Pipeline::flush() {
    dispatcher_->collect_retired();
    dispatcher_->pump();
    expand();
    if (deps_.writer) {
        std::vector<std::uint64_t> finished_unstored = ledger_.take_finished_unstored();
        std::vector<std::uint64_t> removals = ledger_.take_removals();
        if (dedupe_.unflushed() != 0 || !removals.empty() || !recorder_.empty() || holds_->has_writes()) {
            const std::uint64_t generation = dedupe_.generation();
            // Holds before the removals: a notify leaves the outbox only once its waiting pushes
            // are stored.
            std::vector<BudgetWrite> budget = holds_->take_writes(generation);
            deps_.writer->submit(generation, dedupe_.take_batch(), std::move(removals), recorder_.take(),
                                 std::move(budget));
        }
        // A finished notify leaves the queue unstored only once what its pushes left to write is
        // written, as a stored one leaves the outbox: the queue's commit then still means "done".
        if (!finished_unstored.empty()) forgettable_.emplace_back(dedupe_.generation() - 1, std::move(finished_unstored));
        const std::uint64_t written = deps_.writer->written();
        std::vector<std::uint64_t> ready;
        while (!forgettable_.empty() && forgettable_.front().first <= written) {
            move_append(ready, std::move(forgettable_.front().second));
            forgettable_.pop_front();
        }
        ledger_.forget_unstored(std::move(ready), deps_.forget_unwritten);
        dedupe_.forget_written(written);
        holds_->forget_written(written);
        retry_when_written();
        return;
    }
    try {
        dedupe_.flush();
        holds_->flush();
        ledger_.flush();
        if (!recorder_.empty()) {
            const DeliveryBatch batch = recorder_.take();
            deps_.store.record_delivery({}, batch.outcomes, batch.events);
        }
    } catch (const StoreError& e) {
        deps_.log.error("store.write_failed", "error=\"" + log_escape(e.what()) + "\"");
    }
    ledger_.forget_unstored(ledger_.take_finished_unstored(), deps_.forget_unwritten);
    retry_when_written();
}

void Pipeline::retry_when_written() {
    if (!waiting_for_writer_ || writer_retry_ != 0 || stopping_) return;
    writer_retry_ = deps_.timers.after(writer_retry_ms, [this] {
        writer_retry_ = 0;
        expand();
    });
}

void Pipeline::stop(std::uint32_t deadline_ms) {
    if (stopping_) return;
    stopping_ = true;
    deps_.timers.cancel(writer_retry_);
    writer_retry_ = 0;
    coalescer_.drop_all();
    holds_->stop();
    expanding_.clear();  // their rounds stay open, their entries in the outbox
    expanding_groups_.clear();
    waiting_.clear();
    newest_waiting_.clear();
    dispatcher_->stop(deadline_ms);
}

}  // namespace pushsync::sender
