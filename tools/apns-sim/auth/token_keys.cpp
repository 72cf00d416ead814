// SPDX-License-Identifier: BSD-2-Clause
#include "auth/token_keys.hpp"

#include <openssl/pem.h>

#include <algorithm>

namespace apns_sim {

bool TokenKey::allows_topic(const std::string& bundle) const {
    return topics.empty() || std::find(topics.begin(), topics.end(), bundle) != topics.end();
}

namespace {

EvpPkeyPtr load_public_key(const std::string& path) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) throw OptionsError("--token-key: cannot read " + path);
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
        BIO_reset(bio.get());
        key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    }
    if (!key) throw OptionsError("--token-key: " + path + " is neither a PEM private key (.p8) nor a PEM public key");
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC || EVP_PKEY_get_bits(key.get()) != 256) {
        throw OptionsError("--token-key: " + path + " is not a P-256 key");
    }
    return key;
}

}  // namespace

TokenKeys::TokenKeys(const std::vector<TokenKeySpec>& specs) {
    for (const auto& s : specs) {
        TokenKey k;
        k.key_id = s.key_id;
        k.team_id = s.team_id;
        k.topics = s.topics;
        k.environment = s.environment;
        k.public_key = load_public_key(s.path);
        keys_.insert_or_assign(s.key_id, std::move(k));
    }
}

const TokenKey* TokenKeys::find(const std::string& key_id) const {
    auto it = keys_.find(key_id);
    return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace apns_sim
