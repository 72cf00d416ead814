// SPDX-License-Identifier: BSD-2-Clause
// The command line of pushsyncctl (see args.hpp).
#include "cli/args.hpp"

#include <charconv>

namespace pushsync::cli {
namespace {

const OptionSpec* find_option(const CommandSpec& command, const std::string& name) {
    for (const OptionSpec& option : command.options) {
        if (option.name == name) return &option;
    }
    return nullptr;
}

// Whether any command's option of that name takes a value: needed to split "--limit 5" before
// the command is known (global options may come first).
bool takes_value_anywhere(const std::vector<CommandSpec>& commands, const std::string& name) {
    for (const CommandSpec& command : commands) {
        const OptionSpec* option = find_option(command, name);
        if (option && !option->value_name.empty()) return true;
    }
    return false;
}

std::string joined_words(const CommandSpec& command) {
    std::string out;
    for (const std::string& word : command.words) out += (out.empty() ? "" : " ") + word;
    return out;
}

}  // namespace

std::optional<std::string> Invocation::option(const std::string& name) const {
    const auto it = options.find(name);
    if (it == options.end()) return std::nullopt;
    return it->second;
}

std::uint64_t parse_count(const std::string& text, const std::string& what) {
    std::uint64_t value = 0;
    const bool digits_only = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!digits_only || ec != std::errc() || end != text.data() + text.size()) {
        throw UsageError(what + " expects a whole number, got \"" + text + "\"");
    }
    return value;
}

ParsedLine parse_command_line(const std::vector<std::string>& argv, const std::vector<CommandSpec>& commands,
                              const CommandSpec** command_seen) {
    ParsedLine line;
    std::vector<std::string> words;
    std::vector<std::pair<std::string, std::string>> raw_options;
    bool options_done = false;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (options_done || arg.size() < 2 || arg[0] != '-' || arg == "-") {
            words.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        std::string name = arg;
        std::optional<std::string> value;
        if (const auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        const bool wants_value = name == "--config" || name == "--store" || takes_value_anywhere(commands, name);
        if (wants_value && !value) {
            if (i + 1 >= argv.size()) throw UsageError(name + " needs a value");
            value = argv[++i];
        }
        if (!wants_value && value) throw UsageError(name + " takes no value");
        if (name == "--config") line.config_path = *value;
        else if (name == "--store") line.store_path = *value;
        else if (name == "--json") line.json = true;
        else if (name == "--help" || name == "-h") line.help = true;
        else if (name == "--version") line.version = true;
        else raw_options.emplace_back(name, value.value_or(""));
    }

    // The longest command whose words start the line: "queue peek" before "queue".
    std::size_t matched = 0;
    for (const CommandSpec& command : commands) {
        if (command.words.size() > words.size() || command.words.size() <= matched) continue;
        bool same = true;
        for (std::size_t w = 0; w < command.words.size(); ++w) same = same && command.words[w] == words[w];
        if (same) {
            line.command = &command;
            matched = command.words.size();
        }
    }
    *command_seen = line.command;
    if (!line.command) {
        if (words.empty()) {
            if (line.help || line.version) return line;
            throw UsageError("no command given");
        }
        throw UsageError("unknown command \"" + words[0] + "\"");
    }
    if (line.help) return line;

    const CommandSpec& command = *line.command;
    line.args.assign(words.begin() + static_cast<std::ptrdiff_t>(matched), words.end());
    for (const auto& [name, value] : raw_options) {
        if (!find_option(command, name)) throw UsageError(joined_words(command) + ": unknown option " + name);
        line.options[name] = value;
    }
    if (line.args.size() < command.min_args) throw UsageError(joined_words(command) + ": missing " + command.arguments);
    if (line.args.size() > command.max_args) {
        throw UsageError(joined_words(command) + ": unexpected argument \"" + line.args[command.max_args] + "\"");
    }
    return line;
}

std::string usage_line(const CommandSpec& command) {
    std::string out = "pushsyncctl [--config FILE] " + joined_words(command);
    if (!command.arguments.empty()) out += " " + command.arguments;
    for (const OptionSpec& option : command.options) {
        out += " [" + option.name + (option.value_name.empty() ? "" : " " + option.value_name) + "]";
    }
    return out + " [--json]";
}

std::string command_help(const CommandSpec& command) {
    std::string out = "usage: " + usage_line(command) + "\n\n" + command.summary + "\n";
    if (!command.details.empty()) out += "\n" + command.details + "\n";
    out += "\noptions:\n";
    auto add = [&out](const std::string& left, const std::string& help) {
        std::string padded = "  " + left;
        if (padded.size() < 22) padded.resize(22, ' ');
        else padded += "  ";
        out += padded + help + "\n";
    };
    for (const OptionSpec& option : command.options) {
        add(option.name + (option.value_name.empty() ? "" : " " + option.value_name), option.help);
    }
    add("--json", "print JSON (one object) instead of a table");
    add("--config FILE", std::string("pushsync.yaml to read (default ") + default_config_path + ")");
    add("--store DIR", "use this LMDB folder instead of store.path (a backup, say)");
    add("--help", "this text");
    return out;
}

std::string program_help(const std::vector<CommandSpec>& commands) {
    std::string out = "usage: pushsyncctl [--config FILE] COMMAND [ARGS] [--json]\n\n"
                      "Inspect and repair the pushsync store and queue. Reads work while nginx and the\n"
                      "sender run. `pushsyncctl COMMAND --help` describes one command.\n\ncommands:\n";
    for (const CommandSpec& command : commands) {
        std::string left = "  " + joined_words(command) + (command.arguments.empty() ? "" : " " + command.arguments);
        if (left.size() < 26) left.resize(26, ' ');
        else left += "  ";
        out += left + command.summary + "\n";
    }
    out += std::string("\n--config FILE  pushsync.yaml to read (default ") + default_config_path + ")\n" +
           "--store DIR    this LMDB folder instead of store.path (for example a backup)\n"
           "--json         JSON instead of tables\n"
           "--version      print pushsyncctl's version\n\n"
           "exit status: 0 done, 1 not found, 2 usage or configuration error,\n"
           "             3 failed (store or queue unavailable, bad import file, check found problems,\n"
           "               queue reset refused)\n";
    return out;
}

}  // namespace pushsync::cli
