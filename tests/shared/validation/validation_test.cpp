// SPDX-License-Identifier: BSD-2-Clause
// Every identifier rule of docs/api.md, at its edges, accepted and rejected.
#include <gtest/gtest.h>

#include <string>

#include "shared/validation.hpp"

namespace pushsync {
namespace {

TEST(Group, LengthEdges) {
    EXPECT_FALSE(is_valid_group(""));
    EXPECT_TRUE(is_valid_group("a"));
    EXPECT_TRUE(is_valid_group(std::string(128, 'g')));
    EXPECT_FALSE(is_valid_group(std::string(129, 'g')));
}

TEST(Group, EveryAllowedCharacter) {
    EXPECT_TRUE(is_valid_group("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    EXPECT_TRUE(is_valid_group("abcdefghijklmnopqrstuvwxyz"));
    EXPECT_TRUE(is_valid_group("0123456789"));
    for (const char* punct : {".", "_", "~", "-"}) EXPECT_TRUE(is_valid_group(std::string("g") + punct + "1")) << punct;
    EXPECT_TRUE(is_valid_group("g-7c1e"));
    EXPECT_TRUE(is_valid_group("..."));
}

TEST(Group, DisallowedCharacters) {
    for (const char* bad : {"a b", "a/b", "a:b", "a+b", "a=b", "a%b", "a?b", "a#b", "a\tb", "a\nb", "a*b", "a@b"}) {
        EXPECT_FALSE(is_valid_group(bad)) << bad;
    }
    EXPECT_FALSE(is_valid_group(std::string("a\0b", 3)));
    EXPECT_FALSE(is_valid_group("gr\xc3\xbc" "ppe"));  // non-ASCII (UTF-8 ü)
    EXPECT_FALSE(is_valid_group("\xff"));
}

TEST(Group, IsCaseSensitiveAsGiven) {
    EXPECT_TRUE(is_valid_group("Group"));
    EXPECT_TRUE(is_valid_group("group"));
}

TEST(Token, LengthEdges) {
    EXPECT_FALSE(is_valid_token(""));
    EXPECT_FALSE(is_valid_token(std::string(14, 'a')));
    EXPECT_FALSE(is_valid_token(std::string(15, 'a')));
    EXPECT_TRUE(is_valid_token(std::string(16, 'a')));
    EXPECT_FALSE(is_valid_token(std::string(17, 'a')));
    EXPECT_TRUE(is_valid_token(std::string(64, '0')));
    EXPECT_TRUE(is_valid_token(std::string(200, 'f')));
    EXPECT_FALSE(is_valid_token(std::string(201, 'f')));
    EXPECT_FALSE(is_valid_token(std::string(202, 'f')));
}

TEST(Token, OddLengthRefused) {
    for (std::size_t n = 17; n < 200; n += 2) EXPECT_FALSE(is_valid_token(std::string(n, 'a'))) << n;
    EXPECT_FALSE(is_valid_token(std::string(199, 'a')));
}

TEST(Token, EveryHexDigitEitherCase) {
    EXPECT_TRUE(is_valid_token("0123456789abcdef"));
    EXPECT_TRUE(is_valid_token("0123456789ABCDEF"));
    EXPECT_TRUE(is_valid_token("0123456789aBcDeF"));
}

TEST(Token, NonHexRefused) {
    for (const char* bad : {"0123456789abcdeg", "0123456789abcdeG", "0123456789abcde ", "0123456789abcde-",
                            "0x23456789abcdef", "0123456789abcd\xc3\xa9"}) {
        EXPECT_FALSE(is_valid_token(bad)) << bad;
    }
    EXPECT_FALSE(is_valid_token(std::string("0123456789abcde\0", 16)));
}

TEST(Token, NormalizedToLowercase) {
    EXPECT_EQ(normalize_token("0123456789ABCDEF"), "0123456789abcdef");
    EXPECT_EQ(normalize_token("AbCdEf0123456789"), "abcdef0123456789");
    EXPECT_EQ(normalize_token("abcdef0123456789"), "abcdef0123456789");
    const std::string upper(200, 'F');
    EXPECT_EQ(normalize_token(upper), std::string(200, 'f'));
    EXPECT_TRUE(is_valid_token(normalize_token(upper)));
}

TEST(FcmToken, LengthEdgesAndAlphabet) {
    EXPECT_FALSE(is_valid_fcm_token(std::string(31, 'a')));
    EXPECT_TRUE(is_valid_fcm_token(std::string(32, 'a')));
    EXPECT_TRUE(is_valid_fcm_token(std::string(1024, 'Z')));
    EXPECT_FALSE(is_valid_fcm_token(std::string(1025, 'Z')));
    const std::string every = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:";
    EXPECT_TRUE(is_valid_fcm_token(every));
    for (char bad : std::string(" /+=.~\"\\%\x7f\x01")) {
        std::string token(40, 'a');
        token[20] = bad;
        EXPECT_FALSE(is_valid_fcm_token(token)) << static_cast<int>(bad);
    }
}

TEST(DeviceToken, AnyPlatformsAndItsStoreKey) {
    const std::string fcm = "cD3f:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";
    EXPECT_TRUE(is_valid_device_token(fcm));
    EXPECT_TRUE(is_valid_device_token("3F9A0123456789AB"));
    EXPECT_FALSE(is_valid_device_token("3f9a"));
    EXPECT_FALSE(is_valid_device_token(std::string(40, '/')));
    EXPECT_EQ(device_key("3F9A0123456789AB"), "3f9a0123456789ab");  // apns: lowercase
    EXPECT_EQ(device_key(fcm), fcm);                                // fcm: as given
}

TEST(Tail, LengthEdges) {
    EXPECT_FALSE(is_valid_tail(""));
    EXPECT_TRUE(is_valid_tail("T"));
    EXPECT_TRUE(is_valid_tail(std::string(128, 'T')));
    EXPECT_FALSE(is_valid_tail(std::string(129, 'T')));
}

TEST(Tail, EveryAllowedCharacter) {
    EXPECT_TRUE(is_valid_tail("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"));
    for (const char* punct : {".", "_", "~", ":", "+", "/", "=", "-"}) {
        EXPECT_TRUE(is_valid_tail(std::string("T") + punct + "1")) << punct;
    }
    EXPECT_TRUE(is_valid_tail("T-000042"));
    EXPECT_TRUE(is_valid_tail("aGVsbG8gd29ybGQ="));  // base64
}

TEST(Tail, DisallowedCharacters) {
    for (const char* bad : {"T 1", "T,1", "T;1", "T%1", "T\"1", "T\\1", "T?1", "T\n1", "T#1", "T!1"}) {
        EXPECT_FALSE(is_valid_tail(bad)) << bad;
    }
    EXPECT_FALSE(is_valid_tail("T\xc3\xa9"));
    EXPECT_FALSE(is_valid_tail(std::string("T\0", 2)));
}

TEST(AppVersion, LengthEdges) {
    EXPECT_FALSE(is_valid_app_version(""));
    EXPECT_TRUE(is_valid_app_version("4"));
    EXPECT_TRUE(is_valid_app_version(std::string(64, 'v')));
    EXPECT_FALSE(is_valid_app_version(std::string(65, 'v')));
}

TEST(AppVersion, PrintableAsciiOnly) {
    EXPECT_TRUE(is_valid_app_version("4.1 (build 123) beta!"));
    EXPECT_TRUE(is_valid_app_version(" "));
    EXPECT_TRUE(is_valid_app_version("~"));
    std::string all_printable;
    for (char c = 0x20; c < 0x7f; ++c) all_printable += c;
    EXPECT_TRUE(is_valid_app_version(all_printable.substr(0, 64)));
    EXPECT_TRUE(is_valid_app_version(all_printable.substr(64)));
    EXPECT_FALSE(is_valid_app_version("4.1\n"));
    EXPECT_FALSE(is_valid_app_version("4.1\t"));
    EXPECT_FALSE(is_valid_app_version("\x1f"));
    EXPECT_FALSE(is_valid_app_version("\x7f"));
    EXPECT_FALSE(is_valid_app_version(std::string("4\0", 2)));
    EXPECT_FALSE(is_valid_app_version("4.1\xc3\xa9"));
}

}  // namespace
}  // namespace pushsync
