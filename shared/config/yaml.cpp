// SPDX-License-Identifier: BSD-2-Clause
// Typed, position-aware reading of a yaml-cpp tree (see shared/config/yaml.hpp).
#include "shared/config/yaml.hpp"

#include <charconv>
#include <limits>

#include "shared/config/config.hpp"

namespace pushsync::config_yaml {
namespace {

std::string_view kind_name(const YAML::Node& node) noexcept {
    switch (node.Type()) {
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Map: return "a mapping";
        case YAML::NodeType::Null: return "empty";
        case YAML::NodeType::Scalar: return "a single value";
        default: return "missing";
    }
}

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        // Keep the error on one line whatever the value holds.
        if (c == '\n' || c == '\r' || c == '\t') out += ' ';
        else out += c;
    }
    return out + '"';
}

// Digits only: no sign, no 0x, no separators, so "08" is eight and "-1" is refused.
bool parse_unsigned(std::string_view text, std::uint64_t& out) noexcept {
    if (text.empty()) return false;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

int line_of(const YAML::Node& node) noexcept {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? 1 : mark.line + 1;
}

std::string join(std::string_view path, std::string_view key) {
    if (path.empty()) return std::string(key);
    return std::string(path) + "." + std::string(key);
}

void fail(const std::string& file, int line, std::string_view path, std::string_view problem) {
    std::string what = file + ":" + std::to_string(line) + ": ";
    if (!path.empty()) what += std::string(path) + ": ";
    what += problem;
    // Keys, values and yaml-cpp's messages quote the file's bytes: a control character among them
    // (yaml-cpp echoes a bad escape raw) must not split docs/config.md's one line or reach a terminal.
    std::string line_text;
    line_text.reserve(what.size());
    for (const char c : what) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) {
            line_text += c;
            continue;
        }
        static constexpr char hex[] = "0123456789abcdef";
        line_text += "\\x";
        line_text += hex[byte >> 4];
        line_text += hex[byte & 0xf];
    }
    throw ConfigError(line_text);
}

std::string scalar_text(const std::string& file, const YAML::Node& node, std::string_view path, int line) {
    if (!node.IsScalar()) fail(file, line, path, "expects a single value, not " + std::string(kind_name(node)));
    return node.Scalar();
}

Map::Map(const std::string& file, const YAML::Node& node, std::string path, std::initializer_list<std::string_view> known,
         int key_line)
    : file_(file), path_(std::move(path)), line_(node.IsNull() && key_line > 0 ? key_line : line_of(node)) {
    if (!node.IsMap()) {
        fail(file_, line_, path_.empty() ? std::string_view("(top level)") : std::string_view(path_),
             "expects a mapping of keys, not " + std::string(kind_name(node)));
    }
    for (const auto& item : node) {
        const YAML::Node& key = item.first;
        if (!key.IsScalar()) fail(file_, line_of(key), path_, "a key must be a plain name");
        const std::string& name = key.Scalar();
        bool is_known = false;
        for (std::string_view k : known) is_known = is_known || k == name;
        if (!is_known) {
            std::string list;
            for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
            fail(file_, line_of(key), join(path_, name), "unknown key (known here: " + list + ")");
        }
        for (const Entry& seen : entries_) {
            if (seen.key == name) {
                fail(file_, line_of(key), join(path_, name),
                     "given twice (first on line " + std::to_string(seen.key_line) + ")");
            }
        }
        entries_.push_back({name, line_of(key), item.second});
    }
}

bool Map::has(std::string_view key) const noexcept {
    for (const Entry& entry : entries_) {
        if (entry.key == key) return true;
    }
    return false;
}

YAML::Node Map::find(std::string_view key) const {
    for (const Entry& entry : entries_) {
        if (entry.key == key) return entry.value;
    }
    return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node Map::require(std::string_view key) const {
    if (!has(key)) fail_missing(key);
    return find(key);
}

Map Map::child(std::string_view key, std::initializer_list<std::string_view> known) const {
    return Map(file_, require(key), path_of(key), known, line_at(key));
}

int Map::line_at(std::string_view key) const {
    for (const Entry& entry : entries_) {
        if (entry.key == key) return entry.value.IsNull() ? entry.key_line : line_of(entry.value);
    }
    return line_;
}

void Map::fail_at(std::string_view key, std::string_view problem) const { fail(file_, line_at(key), path_of(key), problem); }

void Map::fail_missing(std::string_view key) const { fail(file_, line_, path_of(key), "required key missing"); }

void Map::read_string(std::string_view key, std::string& out, bool allow_empty) const {
    if (!has(key)) return;
    const YAML::Node node = find(key);
    if (node.IsNull()) {
        if (!allow_empty) fail_at(key, "must not be empty");
        out.clear();
        return;
    }
    std::string text = scalar_text(file_, node, path_of(key), line_at(key));
    if (text.empty() && !allow_empty) fail_at(key, "must not be empty");
    out = std::move(text);
}

void Map::read_u32(std::string_view key, std::uint32_t& out, std::uint32_t min, std::uint32_t max) const {
    if (!has(key)) return;
    const std::string text = scalar_text(file_, find(key), path_of(key), line_at(key));
    std::uint64_t value = 0;
    if (!parse_unsigned(text, value)) fail_at(key, "expects a whole number, got " + quoted(text));
    if (value < min || value > max) {
        fail_at(key, std::to_string(value) + " is out of range (" + std::to_string(min) + "-" + std::to_string(max) + ")");
    }
    out = static_cast<std::uint32_t>(value);
}

void Map::read_size(std::string_view key, std::uint64_t& out) const {
    if (!has(key)) return;
    const std::string text = scalar_text(file_, find(key), path_of(key), line_at(key));
    std::size_t digits_end = 0;
    while (digits_end < text.size() && text[digits_end] >= '0' && text[digits_end] <= '9') ++digits_end;
    std::size_t unit_start = digits_end;
    while (unit_start < text.size() && text[unit_start] == ' ') ++unit_start;
    const std::string_view unit = std::string_view(text).substr(unit_start);
    std::uint64_t number = 0;
    if (!parse_unsigned(std::string_view(text).substr(0, digits_end), number)) {
        fail_at(key, "expects a size such as 1GiB or 512MiB, got " + quoted(text));
    }
    unsigned shift = 0;
    if (unit.empty() || unit == "B") shift = 0;
    else if (unit == "KiB") shift = 10;
    else if (unit == "MiB") shift = 20;
    else if (unit == "GiB") shift = 30;
    else fail_at(key, "unknown unit " + quoted(unit) + " (B, KiB, MiB or GiB)");
    if (number == 0) fail_at(key, "must be more than 0");
    if (number > (std::numeric_limits<std::uint64_t>::max() >> shift)) fail_at(key, quoted(text) + " is too large");
    out = number << shift;
}

std::size_t Map::read_choice(std::string_view key, std::initializer_list<std::string_view> choices,
                             std::size_t default_index) const {
    if (!has(key)) return default_index;
    const std::string text = scalar_text(file_, find(key), path_of(key), line_at(key));
    std::size_t index = 0;
    std::string list;
    for (std::string_view choice : choices) {
        if (choice == text) return index;
        list += (list.empty() ? "" : " | ") + std::string(choice);
        ++index;
    }
    fail_at(key, "expects " + list + ", got " + quoted(text));
}

}  // namespace pushsync::config_yaml
