// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Every bench program's command line: `--help` prints what it measures and its options and exits
// 0; an unknown option, a missing or bad value, or a surplus argument prints one line and the
// usage on stderr and exits 2. Options are `--name VALUE` or flags; positionals come in order.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pushsync::bench {

class Options {
public:
    Options(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

    // `--name VALUE` into `target` (an integer, a double or a string); the help shows its default.
    template <typename T>
    Options& value(std::string name, std::string meta, std::string help, T& target) {
        help += " (" + to_text(target) + ")";
        entries_.push_back({std::move(name), std::move(meta), std::move(help), [&target](std::string_view text) {
                                return parse(text, target);
                            }});
        return *this;
    }
    // A flag: `--name` runs `set`.
    Options& flag(std::string name, std::string help, std::function<void()> set) {
        entries_.push_back({std::move(name), "", std::move(help), [set = std::move(set)](std::string_view) {
                                set();
                                return true;
                            }});
        return *this;
    }
    // An optional positional argument, after the ones declared before it.
    template <typename T>
    Options& positional(std::string meta, std::string help, T& target) {
        help += " (" + to_text(target) + ")";
        positionals_.push_back({"", std::move(meta), std::move(help), [&target](std::string_view text) {
                                    return parse(text, target);
                                }});
        return *this;
    }
    // A positional argument that must be given.
    template <typename T>
    Options& required(std::string meta, std::string help, T& target) {
        positionals_.push_back({"", std::move(meta), std::move(help), [&target](std::string_view text) {
                                    return parse(text, target);
                                }});
        ++required_;
        return *this;
    }

    void parse(int argc, char** argv) const {
        std::size_t next_positional = 0;
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "--help" || arg == "-h") {
                usage(stdout);
                std::exit(0);
            }
            if (arg.starts_with("-") && arg.size() > 1 && !is_number(arg)) {
                const Entry* entry = find(arg);
                if (!entry) fail("unknown option " + std::string(arg));
                if (entry->meta.empty()) {
                    entry->set({});
                    continue;
                }
                if (i + 1 >= argc) fail(std::string(arg) + " needs a value (" + entry->meta + ")");
                if (!entry->set(argv[++i])) fail(std::string(arg) + ": bad value \"" + argv[i] + "\"");
                continue;
            }
            if (next_positional >= positionals_.size()) fail("unexpected argument \"" + std::string(arg) + "\"");
            const Entry& entry = positionals_[next_positional++];
            if (!entry.set(arg)) fail(entry.meta + ": bad value \"" + std::string(arg) + "\"");
        }
        if (next_positional < required_) fail(positionals_[next_positional].meta + " is required");
    }

private:
    struct Entry {
        std::string name, meta, help;
        std::function<bool(std::string_view)> set;
    };

    template <typename T>
    static bool parse(std::string_view text, T& target) {
        if constexpr (std::is_same_v<T, std::string>) {
            target = std::string(text);
            return true;
        } else if constexpr (std::is_floating_point_v<T>) {
            char* end = nullptr;
            const std::string copy(text);
            const double v = std::strtod(copy.c_str(), &end);
            if (copy.empty() || *end != '\0') return false;
            target = static_cast<T>(v);
            return true;
        } else {
            T v{};
            const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc{} || ptr != text.data() + text.size()) return false;
            target = v;
            return true;
        }
    }
    template <typename T>
    static std::string to_text(const T& v) {
        if constexpr (std::is_same_v<T, std::string>) {
            return v.empty() ? "none" : v;
        } else {
            return std::to_string(v);
        }
    }
    static bool is_number(std::string_view arg) { return arg.size() > 1 && arg[1] >= '0' && arg[1] <= '9'; }

    const Entry* find(std::string_view name) const {
        for (const Entry& e : entries_)
            if (e.name == name) return &e;
        return nullptr;
    }
    [[noreturn]] void fail(const std::string& what) const {
        std::fprintf(stderr, "%s: %s\n", program_.c_str(), what.c_str());
        usage(stderr);
        std::exit(2);
    }
    void usage(std::FILE* out) const {
        std::string line = "usage: " + program_;
        if (!entries_.empty()) line += " [options]";
        for (std::size_t i = 0; i < positionals_.size(); ++i) {
            line += i < required_ ? " " + positionals_[i].meta : " [" + positionals_[i].meta + "]";
        }
        std::fprintf(out, "%s\n%s\n", line.c_str(), summary_.c_str());
        for (const Entry& e : positionals_) std::fprintf(out, "  %-24s %s\n", e.meta.c_str(), e.help.c_str());
        for (const Entry& e : entries_) {
            const std::string left = e.meta.empty() ? e.name : e.name + " " + e.meta;
            std::fprintf(out, "  %-24s %s\n", left.c_str(), e.help.c_str());
        }
        std::fprintf(out, "  %-24s %s\n", "--help", "print this and exit");
    }

    std::string program_, summary_;
    std::vector<Entry> entries_;
    std::vector<Entry> positionals_;
    std::size_t required_ = 0;
};

}  // namespace pushsync::bench
