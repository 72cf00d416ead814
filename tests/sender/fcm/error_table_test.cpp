// SPDX-License-Identifier: BSD-2-Clause
// docs/fcm.md §3 row by row, with FCM's own bodies, and what broken or hostile answers give.
#include <gtest/gtest.h>

#include <string>

#include "sender/fcm/error_table.hpp"

namespace pushsync::sender::fcm {
namespace {

constexpr std::int64_t sent = 1'800'000'000'123;

// FCM's error body for `code`, `status` and an FcmError detail `error_code` (none when empty).
std::string body(int code, const std::string& status, const std::string& error_code, const std::string& message) {
    std::string details;
    if (!error_code.empty()) {
        details = R"(,"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":")" +
                  error_code + R"("}])";
    }
    return R"({"error":{"code":)" + std::to_string(code) + R"(,"message":")" + message + R"(","status":")" + status +
           "\"" + details + "}}";
}

TEST(FcmErrorTable, Delivered) {
    const auto a = classify_fcm(200, "", R"({"name":"projects/p/messages/0:1"})", sent);
    EXPECT_EQ(a.verdict, Verdict::delivered);
    EXPECT_EQ(a.timestamp_ms, 0);
    EXPECT_EQ(classify_fcm(200, "", "garbage", sent).verdict, Verdict::delivered);
}

TEST(FcmErrorTable, UnregisteredPrunesUnlessRegisteredAfterTheSend) {
    const auto a = classify_fcm(404, "", body(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."), sent);
    EXPECT_EQ(a.verdict, Verdict::unregistered);
    EXPECT_EQ(a.timestamp_ms, sent);  // Store::prune_unregistered keeps a device seen after this
    EXPECT_EQ(a.error_code, "UNREGISTERED");
    EXPECT_EQ(a.reason, "404 UNREGISTERED: Requested entity was not found.");
    // A 404 without FCM's word (a proxy, a wrong path) prunes nothing.
    const auto bare = classify_fcm(404, "", "<html>Not Found</html>", sent);
    EXPECT_EQ(bare.verdict, Verdict::failed);
    EXPECT_EQ(bare.timestamp_ms, 0);
    EXPECT_EQ(bare.reason, "404 (no FCM error body)");
    EXPECT_EQ(classify_fcm(404, "", body(404, "NOT_FOUND", "", "x"), sent).verdict, Verdict::failed);
}

TEST(FcmErrorTable, SenderIdMismatchPrunes) {
    const auto a = classify_fcm(403, "", body(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch"), sent);
    EXPECT_EQ(a.verdict, Verdict::token_rejected);
    EXPECT_EQ(a.error_code, "SENDER_ID_MISMATCH");
    // Another 403 is the service account's permission: the operator's, not the device's.
    EXPECT_EQ(classify_fcm(403, "", body(403, "PERMISSION_DENIED", "", "Permission denied"), sent).verdict,
              Verdict::credentials);
    EXPECT_EQ(classify_fcm(403, "", "Forbidden", sent).verdict, Verdict::failed);
}

TEST(FcmErrorTable, InvalidArgumentPrunesOnlyAnInvalidToken) {
    const auto token = classify_fcm(
        400, "", body(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
        sent);
    EXPECT_EQ(token.verdict, Verdict::token_rejected);
    // Any other INVALID_ARGUMENT is a message we built wrong: never resent, never pruned.
    const auto ours = classify_fcm(
        400, "", body(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid value at 'message.android.ttl'"), sent);
    EXPECT_EQ(ours.verdict, Verdict::failed);
    EXPECT_EQ(ours.reason, "400 INVALID_ARGUMENT: Invalid value at 'message.android.ttl'");
    // status alone (no FcmError detail) is read too.
    EXPECT_EQ(classify_fcm(400, "", body(400, "INVALID_ARGUMENT", "", "The registration token is not a valid FCM registration token"), sent)
                  .verdict,
              Verdict::token_rejected);
    EXPECT_EQ(classify_fcm(400, "", "", sent).verdict, Verdict::failed);
}

TEST(FcmErrorTable, UnauthorizedRefreshesTheAccessToken) {
    EXPECT_EQ(classify_fcm(401, "", body(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "x"), sent).verdict,
              Verdict::refresh_token);
    EXPECT_EQ(classify_fcm(401, "", body(401, "UNAUTHENTICATED", "", "Request had invalid authentication credentials."), sent)
                  .verdict,
              Verdict::refresh_token);
    EXPECT_EQ(classify_fcm(401, "", "", sent).verdict, Verdict::refresh_token);
}

TEST(FcmErrorTable, QuotaWaitsAtLeastAMinuteAndHonoursRetryAfter) {
    const std::string quota = body(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded");
    const auto a = classify_fcm(429, "", quota, sent);
    EXPECT_EQ(a.verdict, Verdict::retry);
    EXPECT_EQ(a.retry_after_ms, 60'000);
    EXPECT_EQ(classify_fcm(429, "10", quota, sent).retry_after_ms, 60'000);
    EXPECT_EQ(classify_fcm(429, "120", quota, sent).retry_after_ms, 120'000);
    EXPECT_EQ(classify_fcm(429, "99999999999999999999", quota, sent).retry_after_ms, max_retry_after_ms);
    EXPECT_EQ(classify_fcm(429, "Wed, 21 Oct 2015 07:28:00 GMT", "", sent).retry_after_ms, 60'000);
}

TEST(FcmErrorTable, ServerErrorsRetry) {
    const auto unavailable = classify_fcm(503, " 30 ", body(503, "UNAVAILABLE", "UNAVAILABLE", "The service is unavailable"), sent);
    EXPECT_EQ(unavailable.verdict, Verdict::retry);
    EXPECT_EQ(unavailable.retry_after_ms, 30'000);
    EXPECT_EQ(classify_fcm(503, "", "", sent).retry_after_ms, 0);  // the caller's backoff alone
    const auto internal = classify_fcm(500, "30", body(500, "INTERNAL", "INTERNAL", "Internal error"), sent);
    EXPECT_EQ(internal.verdict, Verdict::retry);
    EXPECT_EQ(internal.retry_after_ms, 0);
    EXPECT_EQ(classify_fcm(502, "", "<html>", sent).verdict, Verdict::retry);
    EXPECT_EQ(classify_fcm(0, "", "", sent).verdict, Verdict::retry);
    EXPECT_EQ(classify_fcm(0, "", "", sent).reason, "no answer");
}

TEST(FcmErrorTable, OtherAnswersFail) {
    EXPECT_EQ(classify_fcm(413, "", "", sent).verdict, Verdict::failed);
    EXPECT_EQ(classify_fcm(302, "", "", sent).verdict, Verdict::failed);
    EXPECT_EQ(classify_fcm(-1, "", "", sent).verdict, Verdict::failed);
    EXPECT_EQ(classify_fcm(600, "", "", sent).verdict, Verdict::failed);
}

TEST(FcmErrorTable, ErrorBodyIsReadRobustly) {
    EXPECT_FALSE(parse_fcm_error("").parsed);
    EXPECT_FALSE(parse_fcm_error(R"({"error":"x"})").parsed);
    EXPECT_FALSE(parse_fcm_error(std::string(max_error_body_bytes + 1, ' ')).parsed);
    const auto wrong_types = parse_fcm_error(R"({"error":{"code":"x","message":5,"status":[],"details":{"a":1}}})");
    EXPECT_TRUE(wrong_types.parsed);
    EXPECT_EQ(wrong_types.status, "");
    EXPECT_EQ(wrong_types.message, "");
    // Only the FcmError detail names errorCode; other details are passed over.
    const auto mixed = parse_fcm_error(
        R"({"error":{"details":[5,{"@type":"type.googleapis.com/google.rpc.BadRequest","errorCode":"NO"},)"
        R"({"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}})");
    EXPECT_EQ(mixed.error_code, "UNREGISTERED");
    // What FCM says goes into the reason escaped.
    const auto hostile = classify_fcm(404, "", "{\"error\":{\"message\":\"a\\nb\\u001b\",\"status\":\"\\\"x\"}}", sent);
    EXPECT_EQ(hostile.reason, "404 \\x22x: a\\x0ab\\x1b");
    EXPECT_EQ(hostile.verdict, Verdict::failed);
}

TEST(FcmErrorTable, RetryAfterIsDeltaSecondsOnly) {
    EXPECT_EQ(parse_retry_after_ms("0"), 0);
    EXPECT_EQ(parse_retry_after_ms("7"), 7000);
    EXPECT_EQ(parse_retry_after_ms("-7"), 0);
    EXPECT_EQ(parse_retry_after_ms("7s"), 0);
    EXPECT_EQ(parse_retry_after_ms(""), 0);
    EXPECT_EQ(parse_retry_after_ms("3601"), max_retry_after_ms);
}

}  // namespace
}  // namespace pushsync::sender::fcm
