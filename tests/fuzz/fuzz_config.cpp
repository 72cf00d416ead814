// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target: any bytes as a pushsync.yaml. Every input either parses into a configuration
// or is refused with docs/config.md's one line "FILE:LINE: problem"; nothing else escapes, nothing
// crashes (yaml-cpp's own exceptions included).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "shared/config/config.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

// "fuzz.yaml:12: …" on one line.
bool is_config_line(const std::string& message) {
    const std::string file = "fuzz.yaml:";
    if (message.rfind(file, 0) != 0) return false;
    std::size_t i = file.size();
    const std::size_t digits = i;
    while (i < message.size() && message[i] >= '0' && message[i] <= '9') ++i;
    return i > digits && message.compare(i, 2, ": ") == 0 && message.find('\n') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const pushsync::Config config = pushsync::parse_config(text, "fuzz.yaml");
        require(!config.apps.empty());
    } catch (const pushsync::ConfigError& e) {
        require(is_config_line(e.what()));
    }
    return 0;
}
