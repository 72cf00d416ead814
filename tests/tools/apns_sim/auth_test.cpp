// SPDX-License-Identifier: BSD-2-Clause
// Provider-token authentication (docs/apns.md §3): ES256 with raw r||s, kid -> key, iss, iat age, one
// team per connection, the 20-minute refresh rule; and client-certificate problems.
#include <gtest/gtest.h>

#include "tests/tools/apns_sim/sim_test_support.hpp"

namespace pushsync::test {
namespace {

constexpr const char* other_key_id = "OTHERKEY01";
constexpr const char* other_team = "OTHERTEAM1";
constexpr const char* sandbox_key_id = "SANDBOXK01";
constexpr const char* same_team_key_id = "SECONDK001";

// One simulator with three more keys: another team's, a sandbox-only one of the same team, and a
// second production key of the same team.
class Auth : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        keys_ = std::make_unique<TempDir>();
        write_new_p256_key(*keys_ / "other.p8");
        write_new_p256_key(*keys_ / "sandbox.p8");
        write_new_p256_key(*keys_ / "second.p8");
        // the devcerts key id/team are fixed defaults: ABC123DEFG / ABCDE12345
        sim_ = std::make_unique<ApnsSimFixture>(ApnsSimOptions{
            .extra_args = {"--token-key", std::string(other_key_id) + ":" + other_team + ":" + (*keys_ / "other.p8").string(),
                           "--token-key",
                           std::string(sandbox_key_id) + ":ABCDE12345:" + (*keys_ / "sandbox.p8").string() + ":" + topic + ":sandbox",
                           "--token-key", std::string(same_team_key_id) + ":ABCDE12345:" + (*keys_ / "second.p8").string() + ":" + topic}});
    }
    static void TearDownTestSuite() {
        sim_.reset();
        keys_.reset();
    }
    void SetUp() override { sim().reset(); }
    static ApnsSimFixture& sim() { return *sim_; }
    static std::int64_t now() { return sim().control_json("GET", "/clock").at("now_s").get<std::int64_t>(); }
    static H2Response push_with(H2TestClient& client, const std::string& jwt, const std::string& t = topic) {
        Headers h = background_headers(jwt);
        h[1].second = t;
        return client.request("/3/device/" + device_token, h, background_payload);
    }
    static std::string reason(const std::string& r) { return R"({"reason":")" + r + R"("})"; }
    static inline std::unique_ptr<TempDir> keys_;
    static inline std::unique_ptr<ApnsSimFixture> sim_;
};

TEST_F(Auth, ValidRawSignatureIsAccepted) {
    H2TestClient c(client_config(sim()));
    EXPECT_EQ(push_with(c, jwt_for(sim())).status, 200);
}

TEST_F(Auth, DerSignatureIsInvalidProviderToken) {
    H2TestClient c(client_config(sim()));
    auto jwt = make_jwt(sim().key_file(), sim().key_id(), sim().team_id(), now(), SignatureEncoding::der);
    auto r = push_with(c, jwt);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, reason("InvalidProviderToken"));
}

TEST(AuthLenient, DerSignatureIsAcceptedWithLenientDer) {
    ApnsSimFixture sim({.extra_args = {"--lenient-der"}});
    H2TestClient c(client_config(sim));
    auto jwt = make_jwt(sim.key_file(), sim.key_id(), sim.team_id(), unix_now_s(), SignatureEncoding::der);
    EXPECT_EQ(c.request("/3/device/" + device_token, background_headers(jwt), background_payload).status, 200);
}

TEST_F(Auth, MalformedTokensAreInvalidProviderToken) {
    auto good = jwt_for(sim());
    for (const std::string& header : {std::string("bearer not.a.jwt"), std::string("bearer ") + good + "x",
                                      std::string("basic ") + good, std::string("bearer ") + good.substr(0, good.rfind('.'))}) {
        H2TestClient c(client_config(sim()));
        Headers h = background_headers(good);
        h[0].second = header;
        auto r = c.request("/3/device/" + device_token, h, background_payload);
        EXPECT_EQ(r.status, 403) << header;
        EXPECT_EQ(r.body, reason("InvalidProviderToken")) << header;
    }
}

TEST_F(Auth, UnknownKeyIdIsInvalidProviderToken) {
    H2TestClient c(client_config(sim()));
    auto r = push_with(c, make_jwt(sim().key_file(), "NOSUCHKEY1", sim().team_id(), now()));
    EXPECT_EQ(r.body, reason("InvalidProviderToken"));
}

TEST_F(Auth, WrongIssuerIsInvalidProviderToken) {
    H2TestClient c(client_config(sim()));
    auto r = push_with(c, make_jwt(sim().key_file(), sim().key_id(), "WRONGTEAM1", now()));
    EXPECT_EQ(r.body, reason("InvalidProviderToken"));
}

TEST_F(Auth, SignatureByAnotherKeyIsInvalidProviderToken) {
    H2TestClient c(client_config(sim()));
    auto r = push_with(c, make_jwt(*keys_ / "other.p8", sim().key_id(), sim().team_id(), now()));
    EXPECT_EQ(r.body, reason("InvalidProviderToken"));
}

TEST_F(Auth, IatOlderThanAnHourIsExpiredProviderToken) {
    H2TestClient c(client_config(sim()));
    auto r = push_with(c, jwt_for(sim(), -3601));
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, reason("ExpiredProviderToken"));
}

TEST_F(Auth, AcceptedTokenExpiresAnHourAfterItsIatOnTheSameConnection) {
    H2TestClient c(client_config(sim()));
    auto jwt = jwt_for(sim());
    ASSERT_EQ(push_with(c, jwt).status, 200);
    sim().set_clock_offset(3601);
    auto r = push_with(c, jwt);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, reason("ExpiredProviderToken"));
}

TEST_F(Auth, KeyOfTheOtherEnvironmentIsBadEnvironmentKeyIdInToken) {
    H2TestClient c(client_config(sim()));
    auto r = push_with(c, make_jwt(*keys_ / "sandbox.p8", sandbox_key_id, sim().team_id(), now()));
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, reason("BadEnvironmentKeyIdInToken"));
}

TEST_F(Auth, AnotherTeamOnTheConnectionIsUnrelatedKeyIdInToken) {
    H2TestClient c(client_config(sim()));
    ASSERT_EQ(push_with(c, jwt_for(sim())).status, 200);
    auto other = make_jwt(*keys_ / "other.p8", other_key_id, other_team, now());
    auto r = push_with(c, other);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, reason("UnrelatedKeyIdInToken"));
    // the other team's key is fine on its own connection
    H2TestClient fresh(client_config(sim()));
    EXPECT_EQ(push_with(fresh, other).status, 200);
}

TEST_F(Auth, NewTokenWithinTwentyMinutesIsTooManyProviderTokenUpdates) {
    H2TestClient c(client_config(sim()));
    auto first = jwt_for(sim());
    ASSERT_EQ(push_with(c, first).status, 200);
    sim().set_clock_offset(60);
    auto second = jwt_for(sim());
    ASSERT_NE(second, first);
    auto r = push_with(c, second);
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.body, reason("TooManyProviderTokenUpdates"));
    EXPECT_EQ(push_with(c, first).status, 200) << "the accepted token keeps working";
    // a new key of the same team is a new token too
    EXPECT_EQ(push_with(c, make_jwt(*keys_ / "second.p8", same_team_key_id, sim().team_id(), now())).body,
              reason("TooManyProviderTokenUpdates"));
    // the same new token on a new connection is fine: the rule is per connection
    H2TestClient other(client_config(sim()));
    EXPECT_EQ(push_with(other, second).status, 200);
    // 20 minutes after the first was accepted, the connection takes a new one
    sim().set_clock_offset(1201);
    auto third = jwt_for(sim());
    EXPECT_EQ(push_with(c, third).status, 200);
    EXPECT_EQ(push_with(c, first).status, 200) << "requests in flight with the previous token still pass";
}

TEST_F(Auth, RejectedTokenDoesNotCountAsAnUpdate) {
    H2TestClient c(client_config(sim()));
    ASSERT_EQ(push_with(c, jwt_for(sim(), -4000)).status, 403);
    EXPECT_EQ(push_with(c, jwt_for(sim())).status, 200);
}

TEST_F(Auth, CertificateThatDoesNotVerifyIsBadCertificateThenGoaway) {
    // a self-signed certificate with the right UID, not from the simulator's CA
    TempDir dir;
    auto made = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-subj", "/UID=com.example.legacy/CN=rogue", "-days", "2", "-keyout", (dir / "k.pem").string(),
                     "-out", (dir / "c.pem").string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    auto config = client_config(sim());
    config.cert_file = (dir / "c.pem").string();
    config.key_file = (dir / "k.pem").string();
    H2TestClient c(config);
    auto r = c.request("/3/device/" + device_token, {{"apns-topic", "com.example.legacy"}}, background_payload);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, reason("BadCertificate"));
    ASSERT_TRUE(c.run_until([&] { return c.connection_closed(); }));
    EXPECT_TRUE(c.goaway().received);
    EXPECT_EQ(c.goaway().debug, reason("BadCertificate"));
}

TEST_F(Auth, CertificateForTheOtherEnvironmentIsBadCertificateEnvironment) {
    // signed by the CA, but marked (Apple's OID .3.1) as development only
    TempDir dir;
    auto ext = dir / "ext.cnf";
    write_file(ext, "1.2.840.113635.100.6.3.1=ASN1:NULL\n");
    ASSERT_EQ(run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
                   "/UID=com.example.legacy/CN=dev", "-keyout", (dir / "k.pem").string(), "-out", (dir / "r.csr").string()})
                  .exit_code,
              0);
    auto signed_ = run({"openssl", "x509", "-req", "-in", (dir / "r.csr").string(), "-CA", sim().ca_file().string(),
                        "-CAkey", (sim().certs_dir() / "ca.key").string(), "-CAcreateserial", "-CAserial",
                        (dir / "ca.srl").string(), "-days", "2", "-extfile", ext.string(), "-out", (dir / "c.pem").string()});
    ASSERT_EQ(signed_.exit_code, 0) << signed_.err;
    auto config = client_config(sim());
    config.cert_file = (dir / "c.pem").string();
    config.key_file = (dir / "k.pem").string();
    H2TestClient c(config);
    auto r = c.request("/3/device/" + device_token, {{"apns-topic", "com.example.legacy"}}, background_payload);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, reason("BadCertificateEnvironment"));
    ASSERT_TRUE(c.run_until([&] { return c.connection_closed(); }));
    EXPECT_EQ(c.goaway().debug, reason("BadCertificateEnvironment"));
}

TEST_F(Auth, LocationPushWithACertificateIsTopicDisallowed) {
    auto config = client_config(sim());
    config.cert_file = sim().client_cert_file().string();
    config.key_file = sim().client_key_file().string();
    H2TestClient c(config);
    auto r = c.request("/3/device/" + device_token,
                       {{"apns-topic", "com.example.legacy.location-query"}, {"apns-push-type", "location"}}, background_payload);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, reason("TopicDisallowed"));
}

}  // namespace
}  // namespace pushsync::test
