// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Which groups a moving command (export, remove-groups, misplaced) works on: those listed in a
// file, or those that an nginx upstream ring gives to another shard than this one.
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "cli/cli.hpp"

namespace pushsync::cli {

using GroupFilter = std::function<bool(std::string_view group)>;

// --groups FILE, --ring FILE, --self NAME
std::vector<OptionSpec> group_selection_options();

// nullopt when none of the options is given; throws UsageError for half a selection (--ring
// without --self), a --self the ring does not name, or an unreadable file.
std::optional<GroupFilter> group_selection(const Invocation& inv);

}  // namespace pushsync::cli
