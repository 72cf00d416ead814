// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Looks at what nginx wrote: the LMDB store (opened read-only) and the queue file.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "shared/device.hpp"
#include "shared/queue/queue.hpp"

namespace pushsync::test {

// Every device, one JSON line each, in token order ("" when the store does not exist).
std::string store_dump(const std::filesystem::path& store);
std::optional<Device> stored_device(const std::filesystem::path& store, const std::string& token);
std::vector<Device> stored_group(const std::filesystem::path& store, const std::string& group);
std::vector<std::string> store_problems(const std::filesystem::path& store);
// Entries published and not committed.
std::vector<QueuedNotify> queue_entries(const std::filesystem::path& queue);

}  // namespace pushsync::test
