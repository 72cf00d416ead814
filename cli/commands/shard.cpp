// SPDX-License-Identifier: BSD-2-Clause
// pushsyncctl commands for running several shards behind a front nginx (docs/scaling.md): which
// groups no longer belong here, removing them once moved, and the hot backup.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/cli.hpp"
#include "cli/format.hpp"
#include "cli/group_selection.hpp"
#include "cli/table.hpp"
#include "shared/shard_ring.hpp"
#include "shared/store/store.hpp"

namespace pushsync::cli {
namespace {

GroupFilter required_selection(const Invocation& inv) {
    auto selection = group_selection(inv);
    if (!selection) throw UsageError("say which groups: --groups FILE, or --ring FILE with --self NAME");
    return *selection;
}

int run_misplaced(const Invocation& inv) {
    if (!inv.has("--ring") || !inv.has("--self")) throw UsageError("misplaced needs --ring FILE and --self NAME");
    const GroupFilter misplaced = required_selection(inv);
    const ShardRing ring(load_ring_file(*inv.option("--ring")));
    const auto store = open_store(inv.config, true);
    Json list = Json::array();
    Table table({"GROUP", "DEVICES", "OWNER"}, {false, true, false});
    std::size_t devices = 0;
    for (const GroupCount& g : store->list_groups(0)) {
        if (!misplaced(g.group)) continue;
        const std::string owner = ring.owner(g.group)->name;
        devices += g.devices;
        if (inv.json) list.push_back({{"group", g.group}, {"devices", g.devices}, {"owner", owner}});
        else table.add({g.group, std::to_string(g.devices), owner});
    }
    if (inv.json) {
        print_json(inv.out, {{"self", *inv.option("--self")}, {"groups", list}, {"devices", devices}});
    } else {
        if (table.rows() > 0) table.print(inv.out);
        inv.out << table.rows() << " group" << (table.rows() == 1 ? "" : "s") << " (" << devices
                << " devices) belong on another shard\n";
    }
    return exit_done;
}

int run_remove_groups(const Invocation& inv) {
    const GroupFilter selected = required_selection(inv);
    const auto store = open_store(inv.config, false);
    const auto [groups, devices] = store->remove_groups(selected);
    store->sync();
    if (inv.json) print_json(inv.out, {{"groups", groups}, {"removed", devices}});
    else inv.out << "removed " << groups << " groups (" << devices << " devices)\n";
    return exit_done;
}

int run_backup(const Invocation& inv) {
    const std::string dir = inv.args[0];
    const auto store = open_store(inv.config, true);
    store->backup(dir);
    // What was copied, read back from the copy itself.
    StoreOptions copy_options = StoreOptions::from(inv.config.store);
    copy_options.path = dir;
    copy_options.read_only = true;
    const StoreStats stats = Store(copy_options).stats();
    if (inv.json) {
        print_json(inv.out, {{"backup", dir}, {"devices", stats.devices}, {"groups", stats.groups},
                             {"bytes", stats.map_used}});
    } else {
        inv.out << "backed up " << stats.devices << " devices in " << stats.groups << " groups to " << dir << " ("
                << format_bytes(stats.map_used) << ")\n";
    }
    return exit_done;
}

}  // namespace

std::vector<CommandSpec> shard_commands() {
    return {
        {{"misplaced"}, "", "list the groups here that the front's ring gives to another shard",
         "RING is the file of `server ...;` lines the front's upstream includes; NAME is this shard's\n"
         "server as written there. The ring is nginx's `hash $pushsync_group consistent`, computed the\n"
         "same way (docs/scaling.md).",
         {{"--ring", "FILE", "the front's `server ...;` lines"}, {"--self", "NAME", "this shard's server name"}}, 0, 0,
         run_misplaced},
        {{"remove-groups"}, "", "unregister every device of the selected groups (after they moved)",
         "One transaction. Select with --groups FILE, or --ring FILE --self NAME (the misplaced ones).",
         group_selection_options(), 0, 0, run_remove_groups},
        {{"backup"}, "DIR", "copy the store, compacted, into DIR while nginx and the sender write",
         "LMDB's compacting copy as of one moment, data.mdb of mode 0660 (group pushsync where it exists).\n"
         "DIR is made (mode 0770) when missing; one that exists must be of mode 0700 or 0770 and empty.\n"
         "Check it with `pushsyncctl --store DIR check`; restore by stopping nginx and the\n"
         "sender and putting DIR's data.mdb in store.path (docs/scaling.md).",
         {}, 1, 1, run_backup},
    };
}

}  // namespace pushsync::cli
