// SPDX-License-Identifier: BSD-2-Clause
// Aligned plain-text tables (see table.hpp).
#include "cli/table.hpp"

#include <algorithm>
#include <ostream>

namespace pushsync::cli {

Table::Table(std::vector<std::string> header, std::vector<bool> right_aligned)
    : header_(std::move(header)), right_(std::move(right_aligned)) {}

std::string terminal_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            out += c;
            continue;
        }
        static constexpr char hex[] = "0123456789abcdef";
        out += "\\x";
        out += hex[byte >> 4];
        out += hex[byte & 0xf];
    }
    return out;
}

void Table::add(std::vector<std::string> row) {
    for (std::string& cell : row) cell = terminal_text(cell);
    rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> widths(header_.size(), 0);
    auto measure = [&widths](const std::vector<std::string>& row) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    };
    measure(header_);
    for (const auto& row : rows_) measure(row);

    auto print_row = [&](const std::vector<std::string>& row) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            const bool last = i + 1 == row.size();
            const bool right = i < right_.size() && right_[i];
            const std::size_t pad = widths[i] - row[i].size();
            if (right) line.append(pad, ' ');
            line += row[i];
            // No trailing blanks: the last column is not padded on the left-aligned side.
            if (!right && !last) line.append(pad, ' ');
            if (!last) line += "  ";
        }
        out << line << '\n';
    };
    if (!header_.empty()) print_row(header_);
    for (const auto& row : rows_) print_row(row);
}

}  // namespace pushsync::cli
