// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Hand-overs between the sender's threads pile batches up under a lock: the first batch is taken
// whole (no copy, no reallocation), later ones are moved onto its end.
#include <iterator>
#include <utility>
#include <vector>

namespace pushsync::sender {

template <typename T>
void move_append(std::vector<T>& to, std::vector<T>&& from) {
    if (to.empty()) {
        to = std::move(from);
    } else {
        to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    }
}

}  // namespace pushsync::sender
