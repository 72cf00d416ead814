// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What a hostile local process does to the queue file: its own MAP_SHARED mapping, through which
// it writes slots and positions the protocol never would. Test-only; knows shared/queue/layout.hpp.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shared/queue/layout.hpp"

namespace pushsync::test {

class QueueForger {
public:
    explicit QueueForger(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd_ < 0) throw std::runtime_error("cannot open " + path);
        size_ = ::lseek(fd_, 0, SEEK_END);
        void* a = ::mmap(nullptr, static_cast<std::size_t>(size_), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
        if (a == MAP_FAILED) throw std::runtime_error("cannot map " + path);
        base_ = static_cast<char*>(a);
    }
    ~QueueForger() {
        if (base_ != nullptr) ::munmap(base_, static_cast<std::size_t>(size_));
        if (fd_ >= 0) ::close(fd_);
    }
    QueueForger(const QueueForger&) = delete;
    QueueForger& operator=(const QueueForger&) = delete;

    queue_layout::Header& header() const { return *reinterpret_cast<queue_layout::Header*>(base_); }
    std::uint32_t capacity() const { return header().capacity; }
    queue_layout::Slot& slot(std::uint64_t position) const {
        return reinterpret_cast<queue_layout::Slot*>(base_ + queue_layout::kHeaderSize)[position & (capacity() - 1)];
    }

    struct Fields {
        std::string_view group{}, tail{}, origin{};
        // Lengths written to the slot; -1: the field's size.
        int group_len = -1, tail_len = -1, origin_len = -1;
    };
    // Claims the next position the way a producer would and publishes `f` there without any check:
    // what a forged slot looks like to the consumer. Returns the position.
    std::uint64_t publish(const Fields& f) const {
        auto& h = header();
        const auto p = h.producer_position.fetch_add(1);
        auto& s = slot(p);
        std::memcpy(s.group, f.group.data(), std::min(f.group.size(), sizeof s.group));
        std::memcpy(s.tail, f.tail.data(), std::min(f.tail.size(), sizeof s.tail));
        std::memcpy(s.origin, f.origin.data(), std::min(f.origin.size(), sizeof s.origin));
        s.group_len = static_cast<std::uint8_t>(f.group_len < 0 ? f.group.size() : static_cast<std::size_t>(f.group_len));
        s.tail_len = static_cast<std::uint8_t>(f.tail_len < 0 ? f.tail.size() : static_cast<std::size_t>(f.tail_len));
        s.origin_len = static_cast<std::uint8_t>(f.origin_len < 0 ? f.origin.size() : static_cast<std::size_t>(f.origin_len));
        s.enqueued_ms.store(1);
        s.state.store(queue_layout::state(p >> std::countr_zero(capacity()), queue_layout::kPublished));
        return p;
    }

private:
    int fd_ = -1;
    off_t size_ = 0;
    char* base_ = nullptr;
};

}  // namespace pushsync::test
