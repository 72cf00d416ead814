// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target: the sender's view of a hostile queue file. A valid queue file of capacity 8 is
// written, the input's first operations rewrite any bytes of it (what open() must refuse or
// survive), the file is opened as the consumer, and the rest of the input interleaves
// the consumer's calls with more rewrites, truncations and regrowths of the file and valid
// enqueues. Whatever the bytes: no fault (a truncated file must never be touched past its end),
// no read outside the mapping (ASan), every entry handed out passes the API's rules, positions only
// grow, and every call returns (no loop on a forged position).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "shared/queue/queue.hpp"
#include "shared/queue/layout.hpp"
#include "shared/validation.hpp"

using namespace pushsync;
namespace ql = queue_layout;

namespace {

constexpr std::uint32_t kCapacity = 8;
constexpr std::size_t kFileSize = ql::kHeaderSize + kCapacity * ql::kSlotSize;
// A fixed start (a multiple of the capacity) so that runs repeat: a created file would start at
// the clock.
constexpr std::uint64_t kStart = std::uint64_t{1} << 40;

void require(bool condition) {
    if (!condition) std::abort();
}

// The bytes of an empty queue file at kStart, as shared/queue/file.cpp builds one.
const std::vector<char>& empty_file() {
    static const std::vector<char> bytes = [] {
        std::vector<char> b(kFileSize, 0);
        auto* h = ::new (b.data()) ql::Header{};
        std::memcpy(h->magic, ql::kMagic, sizeof ql::kMagic);
        h->version = ql::kVersion;
        h->capacity = kCapacity;
        h->slot_size = ql::kSlotSize;
        h->header_size = ql::kHeaderSize;
        h->file_size = kFileSize;
        h->producer_position.store(kStart);
        h->committed_position.store(kStart);
        h->read_position.store(kStart);
        auto* slots = reinterpret_cast<ql::Slot*>(b.data() + ql::kHeaderSize);
        for (std::uint32_t i = 0; i < kCapacity; ++i) {
            ::new (&slots[i]) ql::Slot{};
            slots[i].state.store(ql::state(kStart / kCapacity, ql::kFree));
        }
        return b;
    }();
    return bytes;
}

const std::string& file_path() {
    static const std::string path = [] {
        char dir[] = "/tmp/fuzz_queue_slot.XXXXXX";
        require(::mkdtemp(dir) != nullptr);
        return std::string(dir) + "/queue";
    }();
    return path;
}

// Reads the input front to back; past its end every read gives 0.
struct Input {
    const std::uint8_t* data;
    std::size_t size;
    std::uint8_t byte() {
        if (size == 0) return 0;
        --size;
        return *data++;
    }
    std::uint16_t u16() { return static_cast<std::uint16_t>(byte() | byte() << 8); }
    std::uint64_t u64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= std::uint64_t{byte()} << (8 * i);
        return v;
    }
};

// Rewrites bytes of the file through its descriptor (the mapping sees them): the attacker.
void rewrite(int fd, Input& in) {
    const std::size_t offset = in.u16() % kFileSize;
    const std::size_t length = std::min<std::size_t>(in.byte() % 33, kFileSize - offset);
    char bytes[32];
    for (std::size_t i = 0; i < length; ++i) bytes[i] = static_cast<char>(in.byte());
    require(::pwrite(fd, bytes, length, static_cast<off_t>(offset)) == static_cast<ssize_t>(length));
}

const char* const kTails[] = {"T1", "a:b+c/d=e~f.g_h", "x"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input in{data, size};
    const std::string& path = file_path();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    require(fd >= 0);
    const auto& bytes = empty_file();
    require(::pwrite(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));

    const int before_open = in.byte() % 4;
    for (int i = 0; i < before_open; ++i) rewrite(fd, in);

    QueueOptions options;
    options.stall_bound = std::chrono::milliseconds(0);  // pass a claimed slot at its second look
    std::unique_ptr<Queue> queue;
    try {
        queue = Queue::open(path, kCapacity, options);
    } catch (const QueueError&) {
        ::close(fd);
        return 0;  // refused, naming the problem: what open() is for
    }

    std::uint64_t last_position = 0;
    std::uint64_t read_position = queue->read_position();
    std::vector<QueuedNotify> out;
    for (int step = 0; step < 64 && in.size > 0; ++step) {
        switch (in.byte() % 8) {
            case 0:
            case 1: rewrite(fd, in); break;
            case 2: {
                out.clear();
                const bool retired = queue->retired();
                const std::size_t n = queue->read(out, 1 + in.byte() % 16, std::chrono::milliseconds(0));
                require(n == out.size() && n <= 16);
                if (retired) require(n == 0);
                for (const QueuedNotify& e : out) {
                    require(is_valid_group(e.group) && is_valid_tail(e.tail));
                    require(e.origin.empty() || is_valid_token(e.origin));
                    require(e.position > last_position || last_position == 0);
                    last_position = e.position;
                }
                for (const RejectedSlot& r : queue->take_rejected()) require(!r.why.empty());
                break;
            }
            case 3: queue->commit(queue->read_position() - in.byte() % 4); break;
            case 4: queue->commit(in.u64()); break;
            case 5: {
                const char* tail = kTails[in.byte() % 3];
                const auto result = queue->enqueue(Notify{"grp", tail, "", 1});
                require(result != EnqueueResult::invalid);
                break;
            }
            case 6: {
                // Truncate, or grow back to the size (pages past the old end read as zeros).
                const off_t to = in.byte() % 2 ? static_cast<off_t>(kFileSize) : static_cast<off_t>(in.u16() % kFileSize);
                require(::ftruncate(fd, to) == 0);
                break;
            }
            case 7: {
                require(queue->peek(1 + in.byte() % 16).size() <= kCapacity);
                (void)queue->stats();
                queue->heartbeat(1);
                queue->add(Counter::pushes_sent);
                (void)queue->committed_position();
                break;
            }
        }
        // 0 until the first read() or commit() makes this Queue the consumer.
        const std::uint64_t now = queue->read_position();
        if (read_position != 0) require(now >= read_position && now - read_position <= kCapacity * 64);
        read_position = now;
    }
    queue.reset();
    ::close(fd);
    return 0;
}
