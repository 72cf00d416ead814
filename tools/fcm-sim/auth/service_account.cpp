// SPDX-License-Identifier: BSD-2-Clause
#include "auth/service_account.hpp"

#include <openssl/pem.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace fcm_sim {

namespace {

std::string required(const nlohmann::json& j, const std::string& path, const char* name) {
    if (!j.contains(name) || !j[name].is_string() || j[name].get<std::string>().empty()) {
        throw std::runtime_error("--service-account " + path + ": no string \"" + std::string(name) + "\"");
    }
    return j[name].get<std::string>();
}

}  // namespace

ServiceAccount load_service_account(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("--service-account: cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (!j.is_object()) throw std::runtime_error("--service-account " + path + ": not a JSON object");
    if (j.value("type", std::string()) != "service_account") {
        throw std::runtime_error("--service-account " + path + ": \"type\" is not \"service_account\"");
    }
    ServiceAccount a;
    a.file = path;
    a.project_id = required(j, path, "project_id");
    a.private_key_id = required(j, path, "private_key_id");
    a.client_email = required(j, path, "client_email");
    a.token_uri = required(j, path, "token_uri");
    const std::string pem = required(j, path, "private_key");
    sim::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    sim::EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
        throw std::runtime_error("--service-account " + path + ": \"private_key\" is not an RSA private key in PEM");
    }
    // Verification needs only the public half: keep that, not the private key.
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key.get(), &der);
    if (len <= 0) throw std::runtime_error("--service-account " + path + ": cannot derive the public key");
    const unsigned char* p = der;
    a.public_key.reset(d2i_PUBKEY(nullptr, &p, len));
    OPENSSL_free(der);
    if (!a.public_key) throw std::runtime_error("--service-account " + path + ": cannot derive the public key");
    return a;
}

ServiceAccounts::ServiceAccounts(const std::vector<std::string>& files) {
    for (const auto& f : files) {
        auto a = load_service_account(f);
        if (find(a.client_email)) throw std::runtime_error("--service-account " + f + ": " + a.client_email + " given twice");
        accounts_.push_back(std::move(a));
    }
}

const ServiceAccount* ServiceAccounts::find(const std::string& client_email) const {
    for (const auto& a : accounts_) {
        if (a.client_email == client_email) return &a;
    }
    return nullptr;
}

bool ServiceAccounts::has_project(const std::string& project_id) const {
    for (const auto& a : accounts_) {
        if (a.project_id == project_id) return true;
    }
    return false;
}

}  // namespace fcm_sim
