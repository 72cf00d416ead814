// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Shared pieces of the fcm-sim tests: one simulator per test suite (reset between tests),
// assertions signed RS256 with the fixture's service account keys, pushsync's message, and
// requests over the HTTP/2 test client.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/fcm_sim_fixture.hpp"
#include "tests/tools/apns_sim/h2_test_client.hpp"

namespace pushsync::test {

inline const std::string fcm_token = "dQw4w9WgXcQ:APA91bH-example_registration_token_0123456789";
inline constexpr const char* fcm_scope = "https://www.googleapis.com/auth/firebase.messaging";

// The claims and header of an assertion, as a sender builds them; tests spoil one field.
struct Assertion {
    nlohmann::json header;
    nlohmann::json claims;
};
Assertion good_assertion(const FcmSimFixture& sim, const FcmServiceAccount& account);
// header.claims.signature, signed RS256 (RSASSA-PKCS1-v1_5 SHA-256) with the PEM key in key_file.
std::string sign_assertion(const Assertion& a, const std::filesystem::path& key_file);
// The form body of POST /token.
std::string token_form(const std::string& jwt);
// A fresh RSA key as PKCS#8 PEM (EVP), for "another key" cases.
void write_new_rsa_key(const std::filesystem::path& pem);

// {"message":{"token":..,"data":{"tail":..},"android":{"priority":..,"ttl":..,"collapse_key":"pushsync"}}}
std::string pushsync_message(const std::string& token = fcm_token, const std::string& tail = "t-1",
                             const std::string& priority = "high", const std::string& ttl = "3600s");
std::string send_path(const std::string& project);

H2ClientConfig client_config(const FcmSimFixture& sim);
H2Response post_token(H2TestClient& client, const std::string& form);
// A token for the account from a good assertion; fails the test when the simulator refuses.
std::string access_token(H2TestClient& client, const FcmSimFixture& sim, const FcmServiceAccount& account);
H2Response send(H2TestClient& client, const std::string& project, const std::string& bearer, const std::string& body);
// The FcmError errorCode of an error body ("" when there is none).
std::string error_code(const H2Response& r);

class SharedFcmSim : public ::testing::Test {
protected:
    static void SetUpTestSuite();
    static void TearDownTestSuite();
    void SetUp() override;
    static FcmSimFixture& sim() { return *sim_; }
    const FcmServiceAccount& account() { return sim().service_account(); }
    static inline std::unique_ptr<FcmSimFixture> sim_;
};

}  // namespace pushsync::test
