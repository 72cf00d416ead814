// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Small helpers shared by the module's nginx tests.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/nginx_fixture.hpp"

namespace pushsync::test {

inline nlohmann::json json_of(const HttpResponse& response) {
    return nlohmann::json::parse(response.body, nullptr, false);
}

// A 32-hex-digit token made from a number.
inline std::string make_token(unsigned n, char filler = 'a') {
    std::string hex = std::to_string(n);
    std::string token(32 - hex.size(), filler);
    return token + hex;
}

inline std::string register_body(const std::string& bundle = "com.example.app", const std::string& extra = "") {
    return R"({"bundle_id":")" + bundle + "\"" + extra + "}";
}

// Asserts status, JSON content type and, for errors, the error code.
inline ::testing::AssertionResult answers(const HttpResponse& r, int status, const std::string& error_code = "") {
    if (r.status != status) {
        return ::testing::AssertionFailure() << "status " << r.status << " (want " << status << "): " << r.body << r.error;
    }
    if (!error_code.empty()) {
        const auto doc = json_of(r);
        if (doc.is_discarded() || !doc.is_object() || doc.value("error", "") != error_code ||
            !doc.contains("message")) {
            return ::testing::AssertionFailure() << "want error " << error_code << ", got " << r.body;
        }
        if (r.header("content-type") != "application/json") {
            return ::testing::AssertionFailure() << "content-type " << r.header("content-type");
        }
    }
    return ::testing::AssertionSuccess();
}

}  // namespace pushsync::test
