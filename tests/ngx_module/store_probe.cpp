// SPDX-License-Identifier: BSD-2-Clause
#include "tests/ngx_module/store_probe.hpp"

#include <sstream>

#include "shared/store/store.hpp"

namespace pushsync::test {
namespace {

Store open_read_only(const std::filesystem::path& path) {
    StoreOptions options;
    options.path = path.string();
    options.read_only = true;
    return Store(options);
}

}  // namespace

std::string store_dump(const std::filesystem::path& store) {
    if (!std::filesystem::exists(store / "data.mdb")) return {};
    std::ostringstream out;
    open_read_only(store).export_jsonl(out);
    return out.str();
}

std::optional<Device> stored_device(const std::filesystem::path& store, const std::string& token) {
    return open_read_only(store).get_device(token);
}

std::vector<Device> stored_group(const std::filesystem::path& store, const std::string& group) {
    return open_read_only(store).list_group(group);
}

std::vector<std::string> store_problems(const std::filesystem::path& store) {
    return open_read_only(store).check();
}

std::vector<QueuedNotify> queue_entries(const std::filesystem::path& queue) {
    return Queue::open_existing(queue.string())->peek(1 << 20);
}

}  // namespace pushsync::test
