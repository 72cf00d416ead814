// SPDX-License-Identifier: BSD-2-Clause
// bench_queue: the shared-memory queue beside the same hand-off over a pipe and over an eventfd,
// all measured in this one run, between real processes (as nginx workers and the sender are).
//
//   enqueue   each producer process hands off N entries as fast as it can while one consumer
//             process drains them; per-hand-off latency p50/p99 (first attempt until taken,
//             including retries on full / blocking on a full pipe) and total throughput.
//   wake-up   the consumer sleeps (futex / blocking read); the producer stamps the time and hands
//             one entry off; the consumer stamps its return. p50/p99 of the difference.
//
// The pipe carries the entry's bytes (one write(2) per entry, <= PIPE_BUF so atomic between
// producers); the eventfd carries only a count (or the stamp), so it is the floor for "one syscall
// per entry" and cannot carry an entry at all.
//
// Usage: bench_queue [entries_per_producer (200000)] [wakeups (500)]
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/fail_loudly.hpp"
#include "bench/options.hpp"
#include "shared/queue/queue.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long any one step may take: 400,000 hand-offs take about a second here.
constexpr unsigned kChildSeconds = 60;

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

// Anonymous memory shared with forked children: where they leave their samples.
class SharedRegion {
public:
    explicit SharedRegion(std::size_t bytes) : size_(bytes) {
        address_ = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (address_ == MAP_FAILED) throw std::runtime_error("mmap shared region");
        std::memset(address_, 0, bytes);  // fault the pages in now, not inside timed hand-offs
    }
    ~SharedRegion() { ::munmap(address_, size_); }
    SharedRegion(const SharedRegion&) = delete;
    SharedRegion& operator=(const SharedRegion&) = delete;
    template <typename T>
    T* as(std::size_t byte_offset = 0) const {
        return reinterpret_cast<T*>(static_cast<char*>(address_) + byte_offset);
    }

private:
    void* address_;
    std::size_t size_;
};

class Child {
public:
    explicit Child(const std::function<int()>& body) {
        std::fflush(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork");
        if (pid_ == 0) {
            // A child that hangs (a lost entry, a dead peer) dies by SIGALRM and its parent
            // reports it, rather than the benchmark waiting for ever.
            ::alarm(kChildSeconds);
            int code = 99;
            try {
                code = body();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "bench child: %s\n", e.what());
            }
            ::_exit(code);
        }
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    // Waits for the child; a child that failed (exit status, signal, SIGALRM) ends the benchmark.
    void wait(const std::string& who) {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
            throw pushsync::bench::Failure("timed out: " + who + " still running after " + std::to_string(kChildSeconds) + " s");
        }
        throw pushsync::bench::Failure(who + (WIFEXITED(status) ? " exited " + std::to_string(WEXITSTATUS(status))
                                                                : " died of signal " + std::to_string(WTERMSIG(status))));
    }

private:
    pid_t pid_ = -1;
};

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

class TempDir {
public:
    TempDir() {
        std::string templ = (std::filesystem::temp_directory_path() / "bench_queue.XXXXXX").string();
        if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp");
        path_ = templ;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const char* name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

enum class Channel { queue, pipe, eventfd };
const char* name(Channel c) { return c == Channel::queue ? "shm queue" : c == Channel::pipe ? "pipe" : "eventfd"; }

// One hand-off channel, set up before fork and used from both sides.
struct Setup {
    Channel channel;
    std::string queue_path;
    int pipe_read = -1, pipe_write = -1;
    int event = -1;
};

constexpr std::uint32_t kCapacity = 65536;
constexpr char kGroup[] = "g-7c1e4b2a9f";
constexpr char kOrigin[] = "3f9a2b7c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";

// A pipe record: the same fields an entry holds, length-prefixed.
std::size_t encode(char* out, std::uint64_t stamp, std::uint32_t seq) {
    char tail[32];
    const int tail_len = std::snprintf(tail, sizeof tail, "T-%u", seq);
    std::uint16_t len = 0;
    char* p = out + sizeof len;
    std::memcpy(p, &stamp, sizeof stamp);
    p += sizeof stamp;
    const std::uint8_t gl = sizeof kGroup - 1, tl = static_cast<std::uint8_t>(tail_len), ol = sizeof kOrigin - 1;
    *p++ = static_cast<char>(gl);
    std::memcpy(p, kGroup, gl);
    p += gl;
    *p++ = static_cast<char>(tl);
    std::memcpy(p, tail, tl);
    p += tl;
    *p++ = static_cast<char>(ol);
    std::memcpy(p, kOrigin, ol);
    p += ol;
    len = static_cast<std::uint16_t>(p - out - sizeof len);
    std::memcpy(out, &len, sizeof len);
    return static_cast<std::size_t>(p - out);
}

// Reads length-prefixed records from a pipe stream; calls on_record(stamp) for each.
class RecordReader {
public:
    template <typename F>
    std::size_t feed(int fd, F&& on_record) {
        const ssize_t n = ::read(fd, buf_.data() + have_, buf_.size() - have_);
        if (n <= 0) return 0;
        have_ += static_cast<std::size_t>(n);
        std::size_t at = 0, records = 0;
        while (have_ - at >= 2) {
            std::uint16_t len = 0;
            std::memcpy(&len, buf_.data() + at, 2);
            if (have_ - at < 2u + len) break;
            std::uint64_t stamp = 0;
            std::memcpy(&stamp, buf_.data() + at + 2, sizeof stamp);
            on_record(stamp);
            at += 2u + len;
            ++records;
        }
        std::memmove(buf_.data(), buf_.data() + at, have_ - at);
        have_ -= at;
        return records;
    }

private:
    std::vector<char> buf_ = std::vector<char>(1 << 17);
    std::size_t have_ = 0;
};

struct Percentiles {
    double p50 = 0, p99 = 0;
};
Percentiles percentiles(std::vector<std::uint64_t> v) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    return {static_cast<double>(v[v.size() / 2]), static_cast<double>(v[std::min(v.size() - 1, v.size() * 99 / 100)])};
}

struct EnqueueFigures {
    Percentiles latency_ns;
    double entries_per_s = 0;
};

// Field by field: the median of the repetitions.
EnqueueFigures median(std::vector<EnqueueFigures> runs) {
    const auto mid = runs.size() / 2;
    EnqueueFigures m;
    std::sort(runs.begin(), runs.end(), [](auto& a, auto& b) { return a.latency_ns.p50 < b.latency_ns.p50; });
    m.latency_ns.p50 = runs[mid].latency_ns.p50;
    std::sort(runs.begin(), runs.end(), [](auto& a, auto& b) { return a.latency_ns.p99 < b.latency_ns.p99; });
    m.latency_ns.p99 = runs[mid].latency_ns.p99;
    std::sort(runs.begin(), runs.end(), [](auto& a, auto& b) { return a.entries_per_s < b.entries_per_s; });
    m.entries_per_s = runs[mid].entries_per_s;
    return m;
}

// `producers` processes hand off `per_producer` entries each to one consumer process.
EnqueueFigures run_enqueue(const Setup& s, int producers, std::uint32_t per_producer) {
    const std::size_t total = std::size_t{static_cast<std::size_t>(producers)} * per_producer;
    SharedRegion region(64 + total * sizeof(std::uint64_t));
    auto* go = region.as<std::atomic<std::uint32_t>>(0);
    auto* end_ns = region.as<std::atomic<std::uint64_t>>(8);
    auto* samples = region.as<std::uint64_t>(64);

    Child consumer([&] {
        std::size_t received = 0;
        if (s.channel == Channel::queue) {
            auto q = pushsync::Queue::open(s.queue_path, kCapacity);
            std::vector<pushsync::QueuedNotify> batch;
            batch.reserve(1024);
            while (received < total) {
                batch.clear();
                if (q->read(batch, 1024, 1s) > 0) {
                    received += batch.size();
                    q->commit(batch.back().position + 1);
                }
            }
        } else if (s.channel == Channel::pipe) {
            RecordReader reader;
            while (received < total) received += reader.feed(s.pipe_read, [](std::uint64_t) {});
        } else {
            while (received < total) {
                std::uint64_t v = 0;
                if (::read(s.event, &v, sizeof v) == sizeof v) received += v;
            }
        }
        end_ns->store(now_ns());
        return 0;
    });

    std::vector<std::unique_ptr<Child>> children;
    for (int i = 0; i < producers; ++i) {
        children.push_back(std::make_unique<Child>([&, i] {
            std::uint64_t* mine = samples + std::size_t{static_cast<std::size_t>(i)} * per_producer;
            std::unique_ptr<pushsync::Queue> q;
            if (s.channel == Channel::queue) q = pushsync::Queue::open(s.queue_path, kCapacity);
            char record[512];
            while (go->load() == 0) {
            }
            for (std::uint32_t seq = 0; seq < per_producer; ++seq) {
                char tail[32];
                std::snprintf(tail, sizeof tail, "T-%u", seq);
                const auto t0 = now_ns();
                if (s.channel == Channel::queue) {
                    while (q->enqueue(pushsync::Notify{kGroup, tail, kOrigin, 1}) != pushsync::EnqueueResult::accepted)
                        std::this_thread::yield();
                } else if (s.channel == Channel::pipe) {
                    const auto n = encode(record, t0, seq);
                    if (::write(s.pipe_write, record, n) != static_cast<ssize_t>(n)) return 1;
                } else {
                    const std::uint64_t one = 1;
                    if (::write(s.event, &one, sizeof one) != sizeof one) return 1;
                }
                mine[seq] = now_ns() - t0;
            }
            return 0;
        }));
    }
    std::this_thread::sleep_for(50ms);  // every child is at the start line
    const auto start = now_ns();
    go->store(1);
    for (std::size_t i = 0; i < children.size(); ++i) children[i]->wait("producer " + std::to_string(i));
    consumer.wait("consumer");
    EnqueueFigures f;
    f.latency_ns = percentiles(std::vector<std::uint64_t>(samples, samples + total));
    f.entries_per_s = static_cast<double>(total) / (static_cast<double>(end_ns->load() - start) / 1e9);
    return f;
}

// Fresh channels of all three kinds, so no run inherits another's backlog.
class Channels {
public:
    Channels() {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        pipe_read_ = std::make_unique<Fd>(p[0]);
        pipe_write_ = std::make_unique<Fd>(p[1]);
        ::fcntl(p[1], F_SETPIPE_SZ, 1 << 20);  // as much room as the ring, roughly
        event_ = std::make_unique<Fd>(::eventfd(0, EFD_CLOEXEC));
        // Created before the children race, and taken once round the ring so the figures show the
        // steady state (every slot's data written once), not a cold ring.
        auto queue = pushsync::Queue::open(dir_.file("queue"), kCapacity);
        std::vector<pushsync::QueuedNotify> lap;
        for (std::uint32_t i = 0; i < kCapacity; ++i) queue->enqueue(pushsync::Notify{kGroup, "warm-up", kOrigin, 1});
        while (queue->read(lap, kCapacity, 0ms) > 0) {
        }
        queue->commit(lap.back().position + 1);
    }
    Setup setup(Channel c) const {
        return Setup{c, dir_.file("queue"), pipe_read_->get(), pipe_write_->get(), event_->get()};
    }

private:
    TempDir dir_;
    std::unique_ptr<Fd> pipe_read_, pipe_write_, event_;
};

// Each channel's consumer sleeps (futex / blocking read); the producer stamps the time and hands
// one entry off; the consumer stamps its return. The three channels take turns hand-off by
// hand-off, so a change of load on the (shared) machine hits all three alike.
void run_wakeups(const Setup (&setups)[3], int iterations, std::vector<std::uint64_t> (&out)[3]) {
    SharedRegion region(64 * 3 + 3 * static_cast<std::size_t>(iterations) * sizeof(std::uint64_t));
    std::vector<std::unique_ptr<Child>> consumers;
    for (int c = 0; c < 3; ++c) {
        consumers.push_back(std::make_unique<Child>([&, c] {
            const Setup& s = setups[c];
            auto* done = region.as<std::atomic<std::uint32_t>>(64 * static_cast<std::size_t>(c));
            auto* samples = region.as<std::uint64_t>(64 * 3) + static_cast<std::size_t>(c) * iterations;
            std::unique_ptr<pushsync::Queue> q;
            if (s.channel == Channel::queue) q = pushsync::Queue::open(s.queue_path, kCapacity);
            RecordReader reader;
            std::vector<pushsync::QueuedNotify> batch;
            for (int i = 0; i < iterations; ++i) {
                std::uint64_t stamp = 0;
                if (s.channel == Channel::queue) {
                    batch.clear();
                    while (batch.empty()) q->read(batch, 16, 10s);
                    stamp = std::stoull(batch.front().tail);
                } else if (s.channel == Channel::pipe) {
                    while (reader.feed(s.pipe_read, [&](std::uint64_t st) { stamp = st; }) == 0) {
                    }
                } else {
                    if (::read(s.event, &stamp, sizeof stamp) != sizeof stamp) return 1;
                }
                samples[i] = now_ns() - stamp;
                if (q) q->commit(batch.back().position + 1);
                done->store(static_cast<std::uint32_t>(i + 1));
            }
            return 0;
        }));
    }

    auto q = pushsync::Queue::open(setups[0].queue_path, kCapacity);
    char record[512];
    for (int i = 0; i < iterations; ++i) {
        for (int c = 0; c < 3; ++c) {
            const Setup& s = setups[c];
            auto* done = region.as<std::atomic<std::uint32_t>>(64 * static_cast<std::size_t>(c));
            // Let the consumer fall asleep (blocked in read / on the futex) before each hand-off.
            pushsync::bench::wait_or_fail([&] { return done->load() == static_cast<std::uint32_t>(i); },
                                          std::string(name(s.channel)) + " consumer took wake-up " + std::to_string(i),
                                          std::chrono::seconds(kChildSeconds), 1ms);
            std::this_thread::sleep_for(1ms);
            if (s.channel == Channel::queue) {
                pushsync::bench::wait_or_fail([&] { return q->stats().consumer_sleeping; }, "queue consumer asleep",
                                              std::chrono::seconds(kChildSeconds), 1ms);
            }
            const auto t0 = now_ns();
            if (s.channel == Channel::queue) {
                char tail[32];
                std::snprintf(tail, sizeof tail, "%llu", static_cast<unsigned long long>(t0));
                if (q->enqueue(pushsync::Notify{kGroup, tail, kOrigin, 1}) != pushsync::EnqueueResult::accepted) {
                    throw pushsync::bench::Failure("the queue refused wake-up " + std::to_string(i));
                }
            } else if (s.channel == Channel::pipe) {
                const auto n = encode(record, t0, static_cast<std::uint32_t>(i));
                if (::write(s.pipe_write, record, n) != static_cast<ssize_t>(n)) throw std::runtime_error("pipe write");
            } else {
                if (::write(s.event, &t0, sizeof t0) != sizeof t0) throw std::runtime_error("eventfd write");
            }
        }
    }
    for (int c = 0; c < 3; ++c) consumers[static_cast<std::size_t>(c)]->wait(std::string(name(setups[c].channel)) + " consumer");
    for (int c = 0; c < 3; ++c) {
        const auto* samples = region.as<std::uint64_t>(64 * 3) + static_cast<std::size_t>(c) * iterations;
        out[c].assign(samples, samples + iterations);
    }
}

}  // namespace

static int run_benchmark(int argc, char** argv) {
    std::uint32_t per_producer = 200'000;
    int wakeups = 500;
    pushsync::bench::Options("bench_queue",
                             "The shared-memory queue beside a pipe and an eventfd between real processes: "
                             "enqueue latency and throughput, wake-up latency.")
        .positional("ENTRIES_PER_PRODUCER", "entries each producer hands off", per_producer)
        .positional("WAKEUPS", "timed wake-ups of a sleeping consumer", wakeups)
        .parse(argc, argv);
    const Channel channels[] = {Channel::queue, Channel::pipe, Channel::eventfd};

    // The cost of the two clock reads around every timed hand-off, included in every figure.
    std::vector<std::uint64_t> clock_cost;
    for (int i = 0; i < 100000; ++i) {
        const auto a = now_ns();
        clock_cost.push_back(now_ns() - a);
    }
    std::printf("bench_queue: %u entries per producer, %d wake-ups, ring capacity %u, %u CPUs; clock read p50 %.0f ns\n",
                per_producer, wakeups, kCapacity, std::thread::hardware_concurrency(), percentiles(clock_cost).p50);

    for (int producers : {1, 2}) {
        // Repetitions interleave the channels so a change of load on the (shared) machine hits all
        // three alike; the median repetition of each is shown.
        constexpr int kRepetitions = 3;
        std::vector<EnqueueFigures> runs[3];
        for (int rep = 0; rep < kRepetitions; ++rep)
            for (int i = 0; i < 3; ++i) {
                Channels fresh;
                runs[i].push_back(run_enqueue(fresh.setup(channels[i]), producers, per_producer));
            }
        EnqueueFigures f[3];
        for (int i = 0; i < 3; ++i) f[i] = median(runs[i]);
        std::printf("\nhand-off, %d producer process%s -> 1 consumer process (median of %d runs)\n", producers,
                    producers > 1 ? "es" : "", kRepetitions);
        std::printf("  %-10s %12s %12s %16s   %s\n", "channel", "p50 ns", "p99 ns", "entries/s", "vs shm queue (p50, p99, throughput)");
        for (int i = 0; i < 3; ++i)
            std::printf("  %-10s %12.0f %12.0f %16.0f   %.1fx, %.1fx, %.2fx\n", name(channels[i]), f[i].latency_ns.p50,
                        f[i].latency_ns.p99, f[i].entries_per_s, f[i].latency_ns.p50 / f[0].latency_ns.p50,
                        f[i].latency_ns.p99 / f[0].latency_ns.p99, f[i].entries_per_s / f[0].entries_per_s);
    }

    std::vector<std::uint64_t> w[3];
    {
        Channels fresh;
        const Setup setups[3] = {fresh.setup(Channel::queue), fresh.setup(Channel::pipe), fresh.setup(Channel::eventfd)};
        run_wakeups(setups, wakeups, w);
    }
    Percentiles wp[3];
    for (int i = 0; i < 3; ++i) wp[i] = percentiles(w[i]);
    std::printf("\nwake-up: hand-off to a sleeping consumer until it returns with the entry\n");
    std::printf("  %-10s %12s %12s   %s\n", "channel", "p50 ns", "p99 ns", "vs shm queue (p50, p99)");
    for (int i = 0; i < 3; ++i)
        std::printf("  %-10s %12.0f %12.0f   %.2fx, %.2fx\n", name(channels[i]), wp[i].p50, wp[i].p99,
                    wp[i].p50 / wp[0].p50, wp[i].p99 / wp[0].p99);
    return 0;
}

int main(int argc, char** argv) {
    try {
        return run_benchmark(argc, argv);
    } catch (const pushsync::bench::Failure& e) {
        std::fprintf(stderr, "bench_queue: %s\n", e.what());
        return 1;
    }
}
