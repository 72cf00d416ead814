// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Aligned plain-text tables: columns separated by two spaces, one record per line, so the output
// reads like mdb_stat and still greps and cuts well.
#include <iosfwd>
#include <string>
#include <vector>

namespace pushsync::cli {

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
