#pragma once
// The error answer of http-api.md: {"error": "<code>", "message": "<sentence>"}.
// nginx-free so the unit tests and the fuzzer use exactly what the module answers.
#include <string>

namespace pushsync::api {

struct ApiError {
    int status = 500;
    std::string code;     // stable: clients branch on it
    std::string message;  // for people; never echoes raw client bytes
    std::string allow;    // 405 only: the Allow header
};

std::string error_body(const ApiError& error);

}  // namespace pushsync::api
