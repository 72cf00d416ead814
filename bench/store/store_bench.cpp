// SPDX-License-Identifier: BSD-2-Clause
// Store throughput on real LMDB files in a fresh directory under $TMPDIR (/tmp: the same
// filesystem the tests use). Figures are items_per_second over wall time, because with
// sync: always the cost is the fsync wait, not CPU.
//
// mode 0 is sync: always as shipped, mode 1 LMDB's plain durable commit (both fsyncs under its
// writer lock), in the same run: what the meta page's fsync outside the lock gains.
//
//   bench_store --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "shared/store/store.hpp"

namespace {

using namespace pushsync;

class BenchDir {
public:
    BenchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "pushsync-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~BenchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    BenchDir(const BenchDir&) = delete;
    BenchDir& operator=(const BenchDir&) = delete;
    std::string store() const { return (path_ / "store").string(); }

private:
    std::filesystem::path path_;
};

// Tokens in a scattered order, as real devices arrive: inserts land all over the B-tree.
std::string token_of(std::uint64_t n) {
    std::uint64_t z = n + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(z));
    return std::string(48, '0') + buffer;
}

// How a store commits: the mode of bench arguments, so old and new run side by side.
enum class Mode : std::int64_t {
    always = 0,             // sync: always, meta page fsynced after the writer lock (CommitSync)
    always_under_lock = 1,  // sync: always, LMDB's plain commit: both fsyncs under the writer lock
    interval = 2,           // sync: interval (MDB_NOSYNC, a flusher every 100 ms)
};

const char* label_of(Mode mode) {
    switch (mode) {
        case Mode::always: return "sync:always meta-sync-after-lock";
        case Mode::always_under_lock: return "sync:always meta-sync-under-lock (old)";
        case Mode::interval: return "sync:interval";
    }
    return "?";
}

StoreOptions options_for(const BenchDir& dir, Mode mode) {
    StoreOptions options;
    options.path = dir.store();
    options.map_size = 4ull << 30;
    options.sync = mode == Mode::interval ? SyncMode::interval : SyncMode::always;
    options.meta_sync_under_writer_lock = mode == Mode::always_under_lock;
    options.sync_interval_ms = 100;
    return options;
}

std::vector<Registration> make_batch(std::uint64_t& next, std::uint64_t size) {
    std::vector<Registration> batch(size);
    for (auto& registration : batch) {
        registration = Registration{token_of(next), "group-" + std::to_string(next % 20'000), "com.example.app",
                                    Environment::production, "4.1"};
        ++next;
    }
    return batch;
}

// state.range(0): Mode; state.range(1): registrations per transaction.
void BM_Register(benchmark::State& state) {
    BenchDir dir;
    const auto mode = static_cast<Mode>(state.range(0));
    Store store(options_for(dir, mode));
    const auto per_txn = static_cast<std::uint64_t>(state.range(1));
    std::uint64_t next = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto batch = make_batch(next, per_txn);
        state.ResumeTiming();
        benchmark::DoNotOptimize(store.register_devices(batch, 1'764'147'600'000));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(next));
    state.SetLabel(label_of(mode));
}
BENCHMARK(BM_Register)
    ->ArgNames({"mode", "per_txn"})
    ->ArgsProduct({{0, 1, 2}, {1, 16, 256}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Two writers on one store, like the module's two nginx workers: a second thread commits batches
// of the same size for as long as the measured loop runs. Both threads share one Store (the
// workers are separate processes with their own environment, where each syncs for itself but its
// commit still overlaps the other's sync; here one sync may also cover both commits). Items are
// both writers' registrations over the measured wall time; syncs_per_txn = after-commit fsyncs
// per write transaction (0 in the old mode, which fsyncs inside the commit).
void BM_RegisterTwoWriters(benchmark::State& state) {
    BenchDir dir;
    const auto mode = static_cast<Mode>(state.range(0));
    Store store(options_for(dir, mode));
    const auto per_txn = static_cast<std::uint64_t>(state.range(1));
    std::atomic<std::uint64_t> other_items{0};
    std::atomic<bool> measuring{false};
    std::uint64_t next = 0;
    {
        std::jthread other([&](std::stop_token stop) {
            std::uint64_t other_next = 1ull << 40;  // tokens apart from the main writer's
            while (!stop.stop_requested()) {
                auto batch = make_batch(other_next, per_txn);
                store.register_devices(batch, 1'764'147'600'000);
                if (measuring.load()) other_items.fetch_add(per_txn);
            }
        });
        measuring = true;
        for (auto _ : state) {
            state.PauseTiming();
            auto batch = make_batch(next, per_txn);
            state.ResumeTiming();
            benchmark::DoNotOptimize(store.register_devices(batch, 1'764'147'600'000));
        }
        measuring = false;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(next + other_items.load()));
    state.counters["syncs_per_txn"] = benchmark::Counter(
        static_cast<double>(store.commit_syncs()) /
        static_cast<double>(state.iterations() + other_items.load() / per_txn + 1));
    state.SetLabel(label_of(mode));
}
BENCHMARK(BM_RegisterTwoWriters)
    ->ArgNames({"mode", "per_txn"})
    ->ArgsProduct({{0, 1}, {1, 16, 256}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// state.range(0): devices in the group looked up; 100,000 other devices in other groups around it.
void BM_FanOut(benchmark::State& state) {
    BenchDir dir;
    Store store(options_for(dir, Mode::interval));
    const auto group_size = static_cast<std::uint64_t>(state.range(0));
    std::vector<Registration> batch;
    std::uint64_t n = 0;
    auto flush = [&] {
        store.register_devices(batch, 1'764'147'600'000);
        batch.clear();
    };
    for (; n < 100'000; ++n) {
        batch.push_back({token_of(n), "other-" + std::to_string(n % 10'000), "com.example.app", Environment::production, ""});
        if (batch.size() == 1000) flush();
    }
    for (std::uint64_t i = 0; i < group_size; ++i, ++n) {
        batch.push_back({token_of(n), "target", "com.example.app", Environment::production, "4.1"});
        if (batch.size() == 1000) flush();
    }
    flush();
    store.sync();
    std::uint64_t visited = 0;
    for (auto _ : state) {
        store.for_each_in_group("target", [&](const Device& device) { benchmark::DoNotOptimize(device.token.data()); ++visited; });
    }
    if (visited != group_size * state.iterations()) state.SkipWithError("fan-out missed devices");
    state.SetItemsProcessed(static_cast<std::int64_t>(visited));
}
BENCHMARK(BM_FanOut)->ArgName("devices")->Arg(5)->Arg(10'000)->Unit(benchmark::kMicrosecond);

// gc beside registrations (issue 25 §6): state.range(0) devices, every other one (in token order
// scattered) last seen long ago. One thread registers new tokens one at a time, as fast as it can;
// first for a while without gc, then while Store::gc removes the expired half. Counters: the
// registrations' p50/p99/max latency in µs without and with gc, gc's seconds and devices removed.
// sync: interval, so a registration's latency is the writer lock it waits for, not the disk's
// fsync of the day. A gc that removed other than the expired half is an error (ctest's
// bench_smoke fails on it).
void BM_GcWhileRegistering(benchmark::State& state) {
    BenchDir dir;
    Store store(options_for(dir, Mode::interval));
    const auto devices = static_cast<std::uint64_t>(state.range(0));
    constexpr std::int64_t old_ms = 1'000'000'000'000, now_ms = 1'764'147'600'000, cutoff_ms = 1'500'000'000'000;
    {
        std::vector<Registration> expired, fresh;
        std::uint64_t next = 0;
        for (std::uint64_t n = 0; n < devices; ++n) {
            auto batch = make_batch(next, 1);
            (n % 2 == 0 ? expired : fresh).push_back(std::move(batch.front()));
            if (expired.size() + fresh.size() == 20'000 || n + 1 == devices) {
                store.register_devices(expired, old_ms);
                store.register_devices(fresh, now_ms);
                expired.clear();
                fresh.clear();
            }
        }
        store.sync();
    }
    const std::uint64_t expect_removed = (devices + 1) / 2;
    std::uint64_t next = 1ull << 40;  // tokens apart from the stored ones
    const auto percentile = [](std::vector<double>& v, double p) {
        if (v.empty()) return -1.0;
        std::sort(v.begin(), v.end());
        return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
    };
    const auto register_one = [&](std::vector<double>& latencies_us) {
        auto batch = make_batch(next, 1);
        const auto t0 = std::chrono::steady_clock::now();
        store.register_devices(batch, now_ms);
        latencies_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    };
    for (auto _ : state) {
        std::vector<double> without, with;
        const auto baseline_for = std::chrono::milliseconds(devices >= 100'000 ? 3000 : 300);
        for (const auto t0 = std::chrono::steady_clock::now(); std::chrono::steady_clock::now() - t0 < baseline_for;)
            register_one(without);
        std::atomic<bool> gc_done{false};
        std::size_t removed = 0;
        double gc_seconds = 0;
        std::thread gc([&] {
            const auto t0 = std::chrono::steady_clock::now();
            removed = store.gc(cutoff_ms, false);
            gc_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            gc_done = true;
        });
        while (!gc_done) register_one(with);
        gc.join();
        if (removed != expect_removed) {
            state.SkipWithError(("gc removed " + std::to_string(removed) + " of " + std::to_string(expect_removed) +
                                 " expired devices").c_str());
            return;
        }
        if (with.empty()) {
            state.SkipWithError("no registration ran during gc");
            return;
        }
        state.counters["regs_no_gc"] = static_cast<double>(without.size());
        state.counters["p50_us_no_gc"] = percentile(without, 0.50);
        state.counters["p99_us_no_gc"] = percentile(without, 0.99);
        state.counters["max_us_no_gc"] = without.empty() ? -1 : without.back();
        state.counters["regs_gc"] = static_cast<double>(with.size());
        state.counters["p50_us_gc"] = percentile(with, 0.50);
        state.counters["p99_us_gc"] = percentile(with, 0.99);
        state.counters["max_us_gc"] = with.back();
        state.counters["gc_s"] = gc_seconds;
        state.counters["removed"] = static_cast<double>(removed);
    }
}
BENCHMARK(BM_GcWhileRegistering)
    ->ArgName("devices")
    ->Arg(20'000)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
