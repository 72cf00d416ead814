// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Aligned plain-text tables: columns separated by two spaces, one record per line, so the output
// reads like mdb_stat and still greps and cuts well.
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace pushsync::cli {

// `text` with every byte outside printable ASCII (controls, DEL, >= 0x80) as \xHH: store strings
// (bundle ids, app versions, groups) were written by others and must not reach the admin's
// terminal raw (a registered "\x1b]0;…" would retitle it, or worse). Printable text, the escapes
// of log_value() among it, passes unchanged.
std::string terminal_text(std::string_view text);

// Every cell goes through terminal_text().
class Table {
public:
    // An empty header: no header line (key/value listings).
    explicit Table(std::vector<std::string> header = {}, std::vector<bool> right_aligned = {});
    void add(std::vector<std::string> row);
    std::size_t rows() const noexcept { return rows_.size(); }
    void print(std::ostream& out) const;

private:
    std::vector<std::string> header_;
    std::vector<bool> right_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace pushsync::cli
