// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/auth/service_account.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "shared/log_escape.hpp"
#include "shared/safe_open.hpp"

namespace pushsync::sender::fcm {

namespace {

using nlohmann::json;

// A value from the file, as it may appear in the one error line.
std::string shown_value(std::string_view value) {
    constexpr std::size_t shown = 64;
    std::string text = "\"" + log_escape(value.substr(0, shown)) + "\"";
    if (value.size() > shown) text += "...";
    return text;
}

std::string too_large() {
    return "larger than " + std::to_string(max_service_account_bytes) + " bytes; not a service-account key";
}

// nlohmann's byte counts the characters read, the failing one included.
std::size_t line_of(std::string_view text, std::size_t byte) {
    const std::size_t before = byte == 0 ? 0 : std::min(byte - 1, text.size());
    return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(before), '\n'));
}

// Where and why the JSON parser stopped. A second pass through the SAX interface, because the
// DOM parse reports a number too large for a double (out_of_range 406) without a position.
class ErrorLocator final : public json::json_sax_t {
public:
    std::size_t position = 0;
    std::string what = "invalid JSON";

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t at, const std::string&, const json::exception& e) override {
        position = at;
        what = e.what();
        return false;
    }
};

// What went wrong, without nlohmann's prefix and position (the line is ours) and without its
// "last read: '…'", which would put the file's bytes (a private key's, perhaps) in a log.
std::string syntax_problem(std::string text) {
    if (auto column = text.find(", column "); column != std::string::npos) {
        if (auto colon = text.find(": ", column); colon != std::string::npos) text.erase(0, colon + 2);
    } else if (auto bracket = text.find("] "); bracket != std::string::npos) {
        text.erase(0, bracket + 2);
    }
    if (auto last = text.find("; last read"); last != std::string::npos) text.erase(last);
    constexpr std::size_t shown = 160;
    if (text.size() > shown) text.resize(shown);
    return log_escape(text);
}

class Fields {
public:
    Fields(const json& object, const std::string& file) : object_(object), file_(file) {}

    std::string text(const char* key) const {
        const auto it = object_.find(key);
        if (it == object_.end()) fail(key, "missing");
        if (!it->is_string()) fail(key, std::string("not a string (") + it->type_name() + ")");
        const auto& value = it->get_ref<const std::string&>();
        if (value.empty()) fail(key, "empty");
        return value;
    }

    [[noreturn]] void fail(const char* key, const std::string& problem) const {
        throw ServiceAccountError(file_, std::string(key) + ": " + problem);
    }

private:
    const json& object_;
    const std::string& file_;
};

bool is_project_id(std::string_view id) {
    // Google's ids are lowercase letters, digits and hyphens; domain-scoped ones add
    // "example.com:". Anything else could reshape the send path.
    if (id.size() > 128) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
    });
}

bool has_control(std::string_view value) {
    return std::any_of(value.begin(), value.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

bool is_https_url(std::string_view url) {
    constexpr std::string_view scheme = "https://";
    if (url.size() <= scheme.size() || url.substr(0, scheme.size()) != scheme) return false;
    const char after = url[scheme.size()];
    return after != '/' && after != '?' && after != '#' && !has_control(url) && url.find(' ') == std::string_view::npos;
}

}  // namespace

ServiceAccountError::ServiceAccountError(std::string file, std::string problem, std::size_t line)
    : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + problem),
      file_(std::move(file)), problem_(std::move(problem)), line_(line) {}

ServiceAccount parse_service_account(std::string_view text, const std::string& file) {
    if (text.size() > max_service_account_bytes) throw ServiceAccountError(file, too_large());
    json root;
    try {
        root = json::parse(text);
    } catch (const json::exception&) {
        ErrorLocator locator;
        json::sax_parse(text, &locator);
        // "FILE:LINE: …", the form of every file-and-line error of the project.
        throw ServiceAccountError(file, "not JSON: " + syntax_problem(locator.what), line_of(text, locator.position));
    }
    if (!root.is_object()) throw ServiceAccountError(file, std::string("not a JSON object (") + root.type_name() + ")");

    const Fields fields(root, file);
    const std::string type = fields.text("type");
    if (type != "service_account") {
        fields.fail("type", shown_value(type) + ", not \"service_account\" (download a service-account key from the "
                                           "Firebase console: Project settings, Service accounts)");
    }
    std::string project_id = fields.text("project_id");
    if (!is_project_id(project_id)) {
        fields.fail("project_id", shown_value(project_id) + " is not a project id (lowercase letters, digits, '-', '.', ':')");
    }
    std::string private_key_id = fields.text("private_key_id");
    const std::string pem = fields.text("private_key");
    std::string client_email = fields.text("client_email");
    if (client_email.find('@') == std::string::npos || has_control(client_email)) {
        fields.fail("client_email", shown_value(client_email) + " is not an e-mail address");
    }
    std::string token_uri = fields.text("token_uri");
    if (!is_https_url(token_uri)) fields.fail("token_uri", shown_value(token_uri) + " is not an https:// URL");

    std::optional<RsaKey> key;
    try {
        key.emplace(RsaKey::from_pem(pem));
    } catch (const RsaKeyError& e) {
        fields.fail("private_key", e.what());
    }
    return ServiceAccount{std::move(project_id), std::move(private_key_id), std::move(client_email),
                          std::move(token_uri), std::move(*key)};
}

std::string read_service_account_file(const std::string& path) {
    safe_open::Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ELOOP) throw ServiceAccountError(path, "is a symbolic link; name the file itself");
        throw ServiceAccountError(path, std::string("cannot open: ") + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw ServiceAccountError(path, std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw ServiceAccountError(path, "not a regular file (a folder, FIFO, socket or device)");
    if (static_cast<std::uint64_t>(st.st_size) > max_service_account_bytes) throw ServiceAccountError(path, too_large());

    // Read to the end rather than trust st_size: the file may change while it is read. One
    // byte past the limit tells a file that grew too large.
    std::string bytes(max_service_account_bytes + 1, '\0');
    std::size_t have = 0;
    while (have < bytes.size()) {
        const ssize_t n = ::read(fd.get(), bytes.data() + have, bytes.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw ServiceAccountError(path, std::string("cannot read: ") + std::strerror(errno));
        if (n == 0) break;
        have += static_cast<std::size_t>(n);
    }
    if (have > max_service_account_bytes) throw ServiceAccountError(path, too_large());
    bytes.resize(have);
    return bytes;
}

ServiceAccount load_service_account(const std::string& path) {
    return parse_service_account(read_service_account_file(path), path);
}

}  // namespace pushsync::sender::fcm
