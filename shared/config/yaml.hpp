// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Typed, position-aware reading of a yaml-cpp tree for load_config: every problem becomes one
// ConfigError line "FILE:LINE: KEY.PATH: problem". Schema-free; config.cpp holds the schema.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace pushsync::config_yaml {

// 1-based line of a node; 1 when yaml-cpp has no position for it (an empty document).
int line_of(const YAML::Node& node) noexcept;

// "store" + "path" -> "store.path"; "" + "store" -> "store".
std::string join(std::string_view path, std::string_view key);

[[noreturn]] void fail(const std::string& file, int line, std::string_view path, std::string_view problem);

// One YAML mapping at a key path. The constructor refuses a node that is not a mapping, a key
// that is not a plain scalar, a key given twice and a key not in `known` (a typo must not pass).
class Map {
public:
    // `key_line`: where the key naming this mapping is, used when the value is empty (yaml-cpp
    // places an empty value's mark on the line after it).
    Map(const std::string& file, const YAML::Node& node, std::string path, std::initializer_list<std::string_view> known,
        int key_line = 0);
    // The mapping under `key` (required).
    Map child(std::string_view key, std::initializer_list<std::string_view> known) const;

    const std::string& file() const noexcept { return file_; }
    const std::string& path() const noexcept { return path_; }
    int line() const noexcept { return line_; }
    std::string path_of(std::string_view key) const { return join(path_, key); }

    bool has(std::string_view key) const noexcept;
    // The value node; throws "required key missing" (at the mapping's line) when absent.
    YAML::Node require(std::string_view key) const;
    // The value node, or an undefined node when absent.
    YAML::Node find(std::string_view key) const;

    // The value's line, or the key's when the value is empty.
    int line_at(std::string_view key) const;
    [[noreturn]] void fail_at(std::string_view key, std::string_view problem) const;
    [[noreturn]] void fail_missing(std::string_view key) const;

    // Each reader leaves `out` alone when the key is absent; a present key must be valid.
    void read_string(std::string_view key, std::string& out, bool allow_empty) const;
    void read_u32(std::string_view key, std::uint32_t& out, std::uint32_t min = 0,
                  std::uint32_t max = 0xffffffffu) const;
    // Bytes with an optional unit B, KiB, MiB or GiB ("1GiB", "512 MiB", "65536").
    void read_size(std::string_view key, std::uint64_t& out) const;
    // One of `choices` (their names, in order); returns the index.
    std::size_t read_choice(std::string_view key, std::initializer_list<std::string_view> choices,
                            std::size_t default_index) const;

private:
    std::string file_;
    std::string path_;
    int line_ = 1;
    struct Entry {
        std::string key;
        int key_line;
        YAML::Node value;
    };
    std::vector<Entry> entries_;  // in file order
};

// The text of a scalar value, refusing sequences, mappings and empty values.
std::string scalar_text(const std::string& file, const YAML::Node& node, std::string_view path, int line);

}  // namespace pushsync::config_yaml
