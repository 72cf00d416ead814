// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Shared pieces of the simulator tests: one simulator per test suite (reset between tests),
// JWTs from its key, the standard headers of a background push, and curl as an independent client.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/tools/apns_sim/h2_test_client.hpp"
#include "tests/tools/apns_sim/jwt_signer.hpp"
#include "tests/support/apns_sim_fixture.hpp"

namespace pushsync::test {

inline const std::string device_token(64, 'a');  // a well-formed 32-byte token
inline const std::string background_payload = R"({"aps":{"content-available":1}})";
inline const std::string topic = "com.example.app";

std::string token_n(int n);  // distinct well-formed tokens

// A JWT from the fixture's key with iat = the simulator's clock + skew.
std::string jwt_for(const ApnsSimFixture& sim, std::int64_t iat_offset_s = 0);
Headers background_headers(const std::string& jwt);
H2ClientConfig client_config(const ApnsSimFixture& sim);

struct CurlResult {
    int status = 0;
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;
    std::string http_version;
    std::string err;
    int exit_code = -1;
};
// curl --http2 against the simulator with the fixture's CA.
CurlResult curl(const ApnsSimFixture& sim, const std::string& path, const std::vector<std::string>& headers,
                const std::string& body, const std::vector<std::string>& extra_args = {});

// A test suite sharing one simulator started with default options.
class SharedSim : public ::testing::Test {
protected:
    static void SetUpTestSuite();
    static void TearDownTestSuite();
    void SetUp() override;
    static ApnsSimFixture& sim() { return *sim_; }
    static inline std::unique_ptr<ApnsSimFixture> sim_;
};

}  // namespace pushsync::test
