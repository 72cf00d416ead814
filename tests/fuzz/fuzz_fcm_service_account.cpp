// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target: any bytes as a Google service-account file. Every input either gives an
// account whose values the sender may put into a request, or is refused with one line naming
// the file ("fuzz.json: …" or "fuzz.json:LINE: …"); nothing else escapes, nothing crashes.
// "@KEY@" in an input stands for a real RSA key's PEM (JSON-escaped), made once per run, so the
// inputs reach the parser's end without a private key in the committed seeds.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "sender/fcm/auth/service_account.hpp"
#include "tests/fuzz/fcm_checks.hpp"

namespace {

using pushsync::fuzz::printable;
using pushsync::fuzz::require;

// "fuzz.json: …" or "fuzz.json:12: …", one printable line.
bool is_error_line(const std::string& message) {
    const std::string file = "fuzz.json";
    if (message.rfind(file, 0) != 0 || !printable(message)) return false;
    std::size_t i = file.size();
    if (message.compare(i, 2, ": ") == 0) return message.size() > i + 2;
    if (i >= message.size() || message[i] != ':') return false;
    const std::size_t digits = ++i;
    while (i < message.size() && message[i] >= '0' && message[i] <= '9') ++i;
    return i > digits && message[digits] != '0' && message.compare(i, 2, ": ") == 0;
}

// A 2048-bit key's PKCS#8 PEM with its newlines as JSON's "\n".
const std::string& escaped_key_pem() {
    static const std::string pem = [] {
        EVP_PKEY* key = EVP_RSA_gen(2048);
        BIO* bio = BIO_new(BIO_s_mem());
        require(key && bio && PEM_write_bio_PKCS8PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
        char* bytes = nullptr;
        const long len = BIO_get_mem_data(bio, &bytes);
        std::string escaped;
        for (long i = 0; i < len; ++i) escaped += bytes[i] == '\n' ? std::string("\\n") : std::string(1, bytes[i]);
        BIO_free(bio);
        EVP_PKEY_free(key);
        return escaped;
    }();
    return pem;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    if (const auto at = text.find("@KEY@"); at != std::string::npos) text.replace(at, 5, escaped_key_pem());
    try {
        const auto account = pushsync::sender::fcm::parse_service_account(text, "fuzz.json");
        require(!account.project_id.empty() && !account.private_key_id.empty() && !account.client_email.empty());
        require(account.project_id.find('/') == std::string::npos && account.project_id.find('?') == std::string::npos);
        require(account.token_uri.rfind("https://", 0) == 0);
        require(account.private_key.bits() >= pushsync::sender::fcm::RsaKey::min_bits);
    } catch (const pushsync::sender::fcm::ServiceAccountError& e) {
        require(is_error_line(e.what()));
        require(e.file() == "fuzz.json");
    }
    return 0;
}
