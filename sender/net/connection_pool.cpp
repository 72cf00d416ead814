// SPDX-License-Identifier: BSD-2-Clause
#include "sender/net/connection_pool.hpp"

#include <algorithm>

namespace pushsync::sender {

namespace {
constexpr double max_backoff_s = 60;
}  // namespace

ConnectionPool::ConnectionPool(Deps deps, std::uint32_t connections, double ping_interval_s, ConnectOptions options)
    : deps_(std::move(deps)), ping_interval_s_(ping_interval_s), options_(std::move(options)) {
    for (std::size_t i = 0; i < std::max<std::uint32_t>(1, connections); ++i) {
        auto slot = std::make_unique<Slot>();
        slot->index = i;
        watchers_.bind<&ConnectionPool::on_reconnect_timer>(slot->reconnect_timer, "on_reconnect_timer");
        slots_.push_back(std::move(slot));
    }
}

ConnectionPool::~ConnectionPool() {
    watchers_.stop_all();
    links_.clear();
}

H2Link* ConnectionPool::pick(std::size_t max_open) {
    for (std::size_t i = 0; i < links_.size(); ++i) {
        H2Link& link = *links_[(next_link_ + i) % links_.size()];
        if (link.active && link.connection->can_open_stream() && link.connection->open_streams() < max_open) {
            next_link_ = (next_link_ + i + 1) % links_.size();
            return &link;
        }
    }
    return nullptr;
}

H2Link* ConnectionPool::find(H2Connection& connection) {
    for (auto& link : links_) {
        if (link->connection.get() == &connection) return link.get();
    }
    return nullptr;
}

std::vector<H2Connection*> ConnectionPool::open_connections() const {
    std::vector<H2Connection*> out;
    out.reserve(links_.size());
    for (const auto& link : links_) out.push_back(link->connection.get());
    return out;
}

void ConnectionPool::connect_idle_slots() {
    for (auto& slot : slots_) {
        if (!slot->link && slot->may_connect) connect(*slot);
    }
}

void ConnectionPool::connect(Slot& slot) {
    auto link = std::make_unique<H2Link>();
    link->slot = slot.index;
    link->connection = std::make_unique<H2Connection>(deps_.loop, deps_.endpoint, deps_.tls, deps_.owner, deps_.log,
                                                        next_connection_id_++, ping_interval_s_, options_);
    if (deps_.on_connect) deps_.on_connect(*link);
    std::string why;
    deps_.log.info(deps_.name + " slot=" + std::to_string(slot.index) + " connecting conn=" +
                   std::to_string(link->connection->id()));
    if (!link->connection->start(why)) {
        deps_.log.warn(deps_.name + " slot=" + std::to_string(slot.index) + " connect failed: " + why);
        ++deps_.connect_failures;
        schedule_reconnect(slot, false);
        return;
    }
    slot.link = link.get();
    links_.push_back(std::move(link));
}

// The slot's connection ended or drains: a new one after the backoff. A connection that served
// responses ended normally (GOAWAY, idle close): replace it at once and reset the backoff; one
// that never did is a failure: wait 1 s, doubling to 60 s.
void ConnectionPool::schedule_reconnect(Slot& slot, bool after_success) {
    slot.link = nullptr;
    if (stopped_) return;
    double delay = 0;
    if (after_success) {
        slot.next_backoff_s = 1;
    } else {
        delay = slot.next_backoff_s;
        slot.next_backoff_s = std::min(max_backoff_s, slot.next_backoff_s * 2);
    }
    if (delay <= 0) {
        slot.may_connect = true;
        deps_.kick();
        return;
    }
    deps_.log.info(deps_.name + " slot=" + std::to_string(slot.index) + " reconnect in " +
                   std::to_string(int(delay)) + " s");
    slot.may_connect = false;
    ev_timer_stop(deps_.loop, &slot.reconnect_timer);
    ev_timer_set(&slot.reconnect_timer, delay, 0);
    ev_timer_start(deps_.loop, &slot.reconnect_timer);
}

void ConnectionPool::on_reconnect_timer(ev_timer& timer) {
    for (auto& slot : slots_) {
        if (&slot->reconnect_timer == &timer) slot->may_connect = true;
    }
    deps_.reconnect_due();
}

void ConnectionPool::retire(H2Link& link, const std::string& why) {
    if (!link.active) return;
    link.active = false;
    Slot& slot = *slots_[link.slot];
    if (slot.link == &link) schedule_reconnect(slot, link.succeeded);
    link.connection->begin_drain(why);
}

void ConnectionPool::stop(const std::string& why) {
    stopped_ = true;
    watchers_.stop_all();
    for (auto& link : links_) {
        link->active = false;
        link->connection->begin_drain(why);
    }
}

void ConnectionPool::close_all(const std::string& why) {
    for (H2Connection* connection : open_connections()) connection->close(why);
}

void ConnectionPool::ready(H2Connection& connection) {
    H2Link* link = find(connection);
    if (link && !link->was_ready) {
        link->was_ready = true;
        ++deps_.connects;
    }
}

void ConnectionPool::succeeded(H2Link& link) {
    link.succeeded = true;
    slots_[link.slot]->next_backoff_s = 1;
}

void ConnectionPool::closed(H2Connection& connection) {
    auto it = std::find_if(links_.begin(), links_.end(),
                           [&](const auto& link) { return link->connection.get() == &connection; });
    if (it == links_.end()) return;
    H2Link& link = **it;
    if (!link.succeeded) ++deps_.connect_failures;
    if (link.active) {
        link.active = false;
        Slot& slot = *slots_[link.slot];
        if (slot.link == &link) schedule_reconnect(slot, link.succeeded);
    }
    graveyard_.push_back(std::move(*it));
    links_.erase(it);
}

}  // namespace pushsync::sender
