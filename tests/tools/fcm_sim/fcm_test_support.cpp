// SPDX-License-Identifier: BSD-2-Clause
#include "tests/tools/fcm_sim/fcm_test_support.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <stdexcept>

#include "tools/sim-common/base64url.hpp"

namespace pushsync::test {

namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Pkey load_private_key(const std::filesystem::path& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(pem.c_str(), "r"), BIO_free);
    if (!bio) throw std::runtime_error("cannot read " + pem.string());
    Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) throw std::runtime_error("not a PEM private key: " + pem.string());
    return key;
}

}  // namespace

Assertion good_assertion(const FcmSimFixture& sim, const FcmServiceAccount& account) {
    const std::int64_t now = sim.now_s();
    return {{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", account.private_key_id}},
            {{"iss", account.client_email},
             {"sub", account.client_email},
             {"scope", fcm_scope},
             {"aud", sim.token_uri()},
             {"iat", now},
             {"exp", now + 3600}}};
}

std::string sign_assertion(const Assertion& a, const std::filesystem::path& key_file) {
    const std::string input = sim::base64url_encode(a.header.dump()) + "." + sim::base64url_encode(a.claims.dump());
    auto key = load_private_key(key_file);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    std::size_t len = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
        throw std::runtime_error("EVP_DigestSign failed");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, input.size()) != 1) {
        throw std::runtime_error("EVP_DigestSign failed");
    }
    sig.resize(len);
    return input + "." + sim::base64url_encode(sig);
}

std::string token_form(const std::string& jwt) {
    // base64url and dots need no %-escaping
    return "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + jwt;
}

void write_new_rsa_key(const std::filesystem::path& pem) {
    Pkey key(EVP_RSA_gen(2048), EVP_PKEY_free);
    if (!key) throw std::runtime_error("EVP_RSA_gen failed");
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(pem.c_str(), "w"), BIO_free);
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw std::runtime_error("cannot write " + pem.string());
    }
}

std::string pushsync_message(const std::string& token, const std::string& tail, const std::string& priority,
                             const std::string& ttl) {
    return R"({"message":{"token":")" + token + R"(","data":{"tail":")" + tail + R"("},"android":{"priority":")" +
           priority + R"(","ttl":")" + ttl + R"(","collapse_key":"pushsync"}}})";
}

std::string send_path(const std::string& project) { return "/v1/projects/" + project + "/messages:send"; }

H2ClientConfig client_config(const FcmSimFixture& sim) {
    H2ClientConfig c;
    c.port = sim.port();
    c.ca_file = sim.ca_file().string();
    return c;
}

H2Response post_token(H2TestClient& client, const std::string& form) {
    return client.request("/token", {{"content-type", "application/x-www-form-urlencoded"}}, form);
}

std::string access_token(H2TestClient& client, const FcmSimFixture& sim, const FcmServiceAccount& account) {
    auto r = post_token(client, token_form(sign_assertion(good_assertion(sim, account), account.private_key_file)));
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("access_token", std::string()) : "";
}

H2Response send(H2TestClient& client, const std::string& project, const std::string& bearer, const std::string& body) {
    Headers h = {{"content-type", "application/json"}};
    if (!bearer.empty()) h.emplace_back("authorization", "Bearer " + bearer);
    return client.request(send_path(project), h, body);
}

std::string error_code(const H2Response& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
    for (const auto& d : j["error"].value("details", nlohmann::json::array())) {
        if (d.value("@type", "") == "type.googleapis.com/google.firebase.fcm.v1.FcmError") return d.value("errorCode", "");
    }
    return "";
}

void SharedFcmSim::SetUpTestSuite() {
    FcmSimOptions o;
    o.projects = {"pushsync-test", "other-project"};
    sim_ = std::make_unique<FcmSimFixture>(o);
}
void SharedFcmSim::TearDownTestSuite() { sim_.reset(); }
void SharedFcmSim::SetUp() { sim().reset(); }

}  // namespace pushsync::test
