// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Google's service-account key file (docs/fcm.md §1): the JSON an operator downloads from the
// Firebase console and names in `auth.file`. Only the members the sender needs are read; the
// rest (client_id, auth_uri, …) are left alone, as Google adds members over time.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sender/fcm/auth/rsa_key.hpp"

namespace pushsync::sender::fcm {

// A service-account file that cannot be used. what() is one line naming the file and the
// problem: "FILE: private_key: not an RSA key (EC)", or with a line for a JSON syntax error:
// "FILE:3: not JSON: …". Values from the file appear in it escaped (shared/log_escape.hpp).
class ServiceAccountError : public std::runtime_error {
public:
    // line 0: the problem is the file's, not one line's.
    ServiceAccountError(std::string file, std::string problem, std::size_t line = 0);
    const std::string& file() const noexcept { return file_; }
    std::size_t line() const noexcept { return line_; }
    const std::string& problem() const noexcept { return problem_; }  // what() without "FILE[:LINE]: "

private:
    std::string file_;
    std::string problem_;
    std::size_t line_;
};

struct ServiceAccount {
    std::string project_id;      // goes into the send path: [a-z0-9.:-] only, checked
    std::string private_key_id;  // the assertion's "kid"
    std::string client_email;    // the assertion's "iss" and "sub"
    std::string token_uri;       // https://…, the assertion's "aud" and where it is posted
    RsaKey private_key;
};

// A real file is about 2.3 KB; anything this large is not one.
inline constexpr std::size_t max_service_account_bytes = 64 * 1024;

// Parses the file's bytes; `file` names it in errors. Errors (ServiceAccountError, one each):
//   "FILE: larger than 65536 bytes; not a service-account key"
//   "FILE:LINE: not JSON: …" (the line of the byte where the JSON parser stopped)
//   "FILE: not a JSON object"
//   "FILE: type: missing" / "FILE: type: \"authorized_user\", not \"service_account\" (…)"
//   "FILE: KEY: missing" / "FILE: KEY: not a string" / "FILE: KEY: empty" for each of
//     project_id, private_key_id, private_key, client_email, token_uri
//   "FILE: project_id: …" characters a project id never has (it goes into the send path)
//   "FILE: client_email: …" without "@", or with control characters
//   "FILE: token_uri: not an https:// URL"
//   "FILE: private_key: not a PEM private key" / "not an RSA key (EC)" / "RSA key of N bits; …"
//     (see RsaKey::from_pem)
// and std::bad_alloc.
ServiceAccount parse_service_account(std::string_view json, const std::string& file);

// Reads `path` opened with O_NOFOLLOW|O_CLOEXEC (the file's own name must not be a symlink; its
// folders may be) and O_NONBLOCK (a FIFO planted under the name cannot hang the reader). Errors
// (ServiceAccountError):
//   "PATH: cannot open: No such file or directory" (and any other open(2) errno's text)
//   "PATH: is a symbolic link; name the file itself"
//   "PATH: not a regular file (a folder, FIFO, socket or device)"
//   "PATH: cannot read: …" (read(2) failed)
//   "PATH: larger than 65536 bytes; not a service-account key"
std::string read_service_account_file(const std::string& path);

// read_service_account_file, then parse_service_account: every error of both.
ServiceAccount load_service_account(const std::string& path);

}  // namespace pushsync::sender::fcm
