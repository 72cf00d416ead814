// SPDX-License-Identifier: BSD-2-Clause
#include "cli/group_selection.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include "shared/shard_ring.hpp"
#include "shared/validation.hpp"

namespace pushsync::cli {
namespace {

std::set<std::string, std::less<>> read_group_list(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw UsageError("--groups: cannot read " + path + " (" + std::strerror(errno) + ")");
    std::set<std::string, std::less<>> groups;
    std::string line;
    std::size_t number = 0;
    while (std::getline(file, line)) {
        ++number;
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        const auto last = line.find_last_not_of(" \t\r");
        const std::string group = line.substr(first, last - first + 1);
        if (!is_valid_group(group)) {
            throw UsageError(path + ":" + std::to_string(number) + ": invalid group \"" + group + "\"");
        }
        groups.insert(group);
    }
    return groups;
}

}  // namespace

std::vector<OptionSpec> group_selection_options() {
    return {{"--groups", "FILE", "only the groups listed in FILE, one per line"},
            {"--ring", "FILE", "with --self: only the groups the ring gives to another shard (FILE: the "
                               "front's `server ...;` lines)"},
            {"--self", "NAME", "this shard's address as written in the ring file (\"10.0.0.5:8080\")"}};
}

std::optional<GroupFilter> group_selection(const Invocation& inv) {
    const bool by_list = inv.has("--groups");
    const bool by_ring = inv.has("--ring") || inv.has("--self");
    if (by_list && by_ring) throw UsageError("give either --groups or --ring with --self, not both");
    if (by_list) {
        auto groups = std::make_shared<std::set<std::string, std::less<>>>(read_group_list(*inv.option("--groups")));
        return [groups](std::string_view group) { return groups->contains(group); };
    }
    if (!by_ring) return std::nullopt;
    if (!inv.has("--ring") || !inv.has("--self")) throw UsageError("--ring and --self go together");
    std::shared_ptr<const ShardRing> ring;
    try {
        ring = std::make_shared<const ShardRing>(load_ring_file(*inv.option("--ring")));
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--ring: ") + e.what());
    }
    const std::string self = *inv.option("--self");
    bool named = false;
    for (const RingServer& server : ring->servers()) named = named || server.name == self;
    if (!named) throw UsageError("--self " + self + ": the ring file names no such server");
    return [ring, self](std::string_view group) {
        const RingServer* owner = ring->owner(group);
        return owner != nullptr && owner->name != self;
    };
}

}  // namespace pushsync::cli
