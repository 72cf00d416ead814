// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The queue file on disk and its MAP_SHARED mapping: creation, validation, replacement.
// Internal to queue*.cpp.
#include <cstddef>
#include <cstdint>
#include <string>

#include "shared/queue/layout.hpp"
#include "shared/safe_open.hpp"

namespace pushsync::queue_file {

using Fd = safe_open::Fd;

// A whole-file MAP_SHARED mapping, unmapped on destruction.
class Mapping {
public:
    Mapping() = default;
    Mapping(void* address, std::size_t size) noexcept : address_(address), size_(size) {}
    Mapping(Mapping&& other) noexcept;
    Mapping& operator=(Mapping&& other) noexcept;
    ~Mapping();
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    void* address() const noexcept { return address_; }
    std::size_t size() const noexcept { return size_; }

private:
    void reset() noexcept;
    void* address_ = nullptr;
    std::size_t size_ = 0;
};

// A validated queue file, open and mapped.
struct MappedQueue {
    Fd fd;
    Mapping mapping;
    queue_layout::Header* header() const noexcept { return static_cast<queue_layout::Header*>(mapping.address()); }
    queue_layout::Slot* slots() const noexcept {
        return reinterpret_cast<queue_layout::Slot*>(static_cast<char*>(mapping.address()) + queue_layout::kHeaderSize);
    }
};

// Opens and validates `path`. capacity != 0: create it complete when missing, and refuse a file
// of another capacity. capacity == 0: the file must exist, any capacity.
// Throws QueueError naming the path; never re-initialises an existing file.
MappedQueue open(const std::string& path, std::uint32_t capacity);

// Replaces whatever is at `path` with a fresh empty queue (atomic rename) and marks the file it
// replaced as retired so the processes that still map it know to reopen.
void replace(const std::string& path, std::uint32_t capacity);

}  // namespace pushsync::queue_file
