// Store throughput on real LMDB files in a fresh directory under $TMPDIR (/tmp: the same
// filesystem the tests use). Figures are items_per_second over wall time, because with
// sync: always the cost is the fsync wait, not CPU.
//
//   bench_store --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "shared/store.hpp"

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

StoreOptions options_for(const BenchDir& dir, SyncMode sync) {
    StoreOptions options;
    options.path = dir.store();
    options.map_size = 4ull << 30;
    options.sync = sync;
    options.sync_interval_ms = 100;
    return options;
}

// state.range(0): 0 = sync: always, 1 = sync: interval; state.range(1): registrations per transaction.
void BM_Register(benchmark::State& state) {
    BenchDir dir;
    Store store(options_for(dir, state.range(0) == 0 ? SyncMode::always : SyncMode::interval));
    const auto per_txn = static_cast<std::uint64_t>(state.range(1));
    std::uint64_t next = 0;
    std::vector<Registration> batch(per_txn);
    for (auto _ : state) {
        state.PauseTiming();
        for (auto& registration : batch) {
            registration = Registration{token_of(next), "group-" + std::to_string(next % 20'000), "com.example.app",
                                        Environment::production, "4.1"};
            ++next;
        }
        state.ResumeTiming();
        benchmark::DoNotOptimize(store.register_devices(batch, 1'764'147'600'000));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(next));
    state.SetLabel(state.range(0) == 0 ? "sync:always" : "sync:interval");
}
BENCHMARK(BM_Register)
    ->ArgNames({"interval", "per_txn"})
    ->ArgsProduct({{0, 1}, {1, 16, 256}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// state.range(0): devices in the group looked up; 100,000 other devices in other groups around it.
void BM_FanOut(benchmark::State& state) {
    BenchDir dir;
    Store store(options_for(dir, SyncMode::interval));
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

}  // namespace

BENCHMARK_MAIN();
