// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The token-auth keys the simulator knows: key id -> public key, team, allowed topics, environment.
#include <map>
#include <string>
#include <vector>

#include "common.hpp"
#include "options.hpp"

namespace apns_sim {

struct TokenKey {
    std::string key_id;
    std::string team_id;
    std::vector<std::string> topics;  // empty: any topic
    std::string environment;          // "" = both
    EvpPkeyPtr public_key;

    bool allows_topic(const std::string& bundle) const;
};

class TokenKeys {
public:
    // Loads each key file (private .p8 or public PEM); throws OptionsError naming the file.
    explicit TokenKeys(const std::vector<TokenKeySpec>& specs);
    const TokenKey* find(const std::string& key_id) const;
    std::size_t size() const noexcept { return keys_.size(); }

private:
    std::map<std::string, TokenKey> keys_;
};

}  // namespace apns_sim
