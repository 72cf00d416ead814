// SPDX-License-Identifier: BSD-2-Clause
// SETTINGS_MAX_CONCURRENT_STREAMS: 1 on a token connection until the first valid JWT, then the
// configured limit; a client that opens more streams gets APNs' GOAWAY.
#include <gtest/gtest.h>

#include "tests/tools/apns_sim/sim_test_support.hpp"

namespace pushsync::test {
namespace {

constexpr const char* violation = "Maximum active streams violated for this endpoint.";

class StreamLimit : public SharedSim {};

TEST_F(StreamLimit, OneStreamUntilTheFirstValidJwtThenAThousand) {
    H2TestClient c(client_config(sim()));
    ASSERT_TRUE(c.run_until([&] { return c.settings_received(); }));
    EXPECT_EQ(c.server_max_streams(), 1u);
    // a rejected push does not raise it
    Headers no_auth = background_headers("");
    no_auth.erase(no_auth.begin());
    ASSERT_EQ(c.request("/3/device/" + device_token, no_auth, background_payload).status, 403);
    EXPECT_EQ(c.server_max_streams(), 1u);
    ASSERT_EQ(c.request("/3/device/" + device_token, background_headers(jwt_for(sim())), background_payload).status, 200);
    ASSERT_TRUE(c.run_until([&] { return c.server_max_streams() == 1000u; }));
    auto conns = sim().connections();
    ASSERT_EQ(conns.size(), 1u);
    EXPECT_EQ(conns[0]["max_concurrent_streams"], 1000);
}

TEST_F(StreamLimit, ManyConcurrentStreamsAfterAuth) {
    H2TestClient c(client_config(sim()));
    auto jwt = jwt_for(sim());
    ASSERT_EQ(c.request("/3/device/" + device_token, background_headers(jwt), background_payload).status, 200);
    ASSERT_TRUE(c.run_until([&] { return c.server_max_streams() == 1000u; }));
    // keep 50 streams open at once (bodies held), then let them all finish
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 50; ++i) ids.push_back(c.submit("/3/device/" + token_n(i), background_headers(jwt), background_payload, "POST", true));
    ASSERT_TRUE(c.run_until([&] { return sim().connections()[0]["open_streams"] == 50; }));
    for (auto id : ids) c.release(id);
    ASSERT_TRUE(c.run_until([&] {
        return std::all_of(ids.begin(), ids.end(), [&](auto id) { return c.response(id).closed; });
    }));
    for (auto id : ids) EXPECT_EQ(c.response(id).status, 200);
    EXPECT_FALSE(c.goaway().received);
}

TEST_F(StreamLimit, SecondStreamBeforeAuthIsGoawayWithApnsMessage) {
    auto config = client_config(sim());
    config.ignore_stream_limit = true;
    H2TestClient c(config);
    ASSERT_TRUE(c.run_until([&] { return c.settings_received(); }));
    EXPECT_EQ(c.server_max_streams(), 1u);
    auto jwt = jwt_for(sim());
    auto held = c.submit("/3/device/" + device_token, background_headers(jwt), background_payload, "POST", true);
    auto extra = c.submit("/3/device/" + device_token, background_headers(jwt), background_payload);
    ASSERT_TRUE(c.run_until([&] { return c.connection_closed(); }));
    ASSERT_TRUE(c.goaway().received);
    EXPECT_EQ(c.goaway().debug, violation);
    EXPECT_EQ(c.goaway().error_code, 1u /* PROTOCOL_ERROR */);
    EXPECT_EQ(c.goaway().last_stream_id, held);
    EXPECT_EQ(c.response(extra).status, 0);
    EXPECT_EQ(sim().counters()["stream_limit_violations"], 1);
}

TEST(StreamLimitConfigured, ExceedingTheLimitAfterAuthIsGoaway) {
    ApnsSimFixture sim({.max_streams = 3});
    auto config = client_config(sim);
    config.ignore_stream_limit = true;
    H2TestClient c(config);
    auto jwt = jwt_for(sim);
    ASSERT_EQ(c.request("/3/device/" + device_token, background_headers(jwt), background_payload).status, 200);
    ASSERT_TRUE(c.run_until([&] { return c.server_max_streams() == 3u; }));
    std::vector<std::int32_t> held;
    for (int i = 0; i < 3; ++i) held.push_back(c.submit("/3/device/" + device_token, background_headers(jwt), background_payload, "POST", true));
    ASSERT_TRUE(c.run_until([&] { return sim.connections()[0]["open_streams"] == 3; }));
    EXPECT_FALSE(c.goaway().received) << "three open streams are within the limit";
    c.submit("/3/device/" + device_token, background_headers(jwt), background_payload);
    ASSERT_TRUE(c.run_until([&] { return c.connection_closed(); }));
    EXPECT_EQ(c.goaway().debug, violation);
}

TEST(StreamLimitDrop, LimitDropsToOneAfterARejectionUntilTheNextAcceptedPush) {
    ApnsSimFixture sim({.extra_args = {"--drop-limit-after-rejection"}});
    H2TestClient c(client_config(sim));
    auto jwt = jwt_for(sim);
    ASSERT_EQ(c.request("/3/device/" + device_token, background_headers(jwt), background_payload).status, 200);
    ASSERT_TRUE(c.run_until([&] { return c.server_max_streams() == 1000u; }));
    Headers bad = background_headers(jwt);
    bad[3].second = "7";
    ASSERT_EQ(c.request("/3/device/" + device_token, bad, background_payload).status, 400);
    ASSERT_TRUE(c.run_until([&] { return c.server_max_streams() == 1u; }));
    ASSERT_EQ(c.request("/3/device/" + device_token, background_headers(jwt), background_payload).status, 200);
    ASSERT_TRUE(c.run_until([&] { return c.server_max_streams() == 1000u; }));
}

}  // namespace
}  // namespace pushsync::test
