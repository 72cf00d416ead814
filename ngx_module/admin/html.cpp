// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/admin/html.hpp"

namespace pushsync::admin {
namespace {

bool unreserved(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string url_encode(std::string_view text) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (unreserved(c)) {
            out += c;
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += digits[byte >> 4];
            out += digits[byte & 0xf];
        }
    }
    return out;
}

std::optional<std::string> url_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string page_url(std::string_view base, std::string_view path,
                     std::initializer_list<std::pair<std::string_view, std::string_view>> query) {
    std::string url(base);
    url += path;
    char separator = '?';
    for (const auto& [name, value] : query) {
        if (value.empty()) continue;
        url += separator;
        url += name;
        url += '=';
        url += url_encode(value);
        separator = '&';
    }
    return url;
}

void Html::write_attrs(std::initializer_list<Attr> attrs) {
    for (const auto& a : attrs) {
        out_ += ' ';
        out_ += a.name;
        out_ += "=\"";
        out_ += html_escape(a.value);
        out_ += '"';
    }
}

void Html::start_tag(std::string_view tag, std::initializer_list<Attr> attrs) {
    out_ += '<';
    out_ += tag;
    write_attrs(attrs);
    out_ += '>';
}

Html& Html::doctype() {
    out_ += "<!DOCTYPE html>";
    return *this;
}

Html& Html::open(std::string_view tag, std::initializer_list<Attr> attrs) {
    start_tag(tag, attrs);
    return *this;
}

Html& Html::close(std::string_view tag) {
    out_ += "</";
    out_ += tag;
    out_ += '>';
    return *this;
}

Html& Html::empty(std::string_view tag, std::initializer_list<Attr> attrs) {
    start_tag(tag, attrs);
    return *this;
}

Html& Html::text(std::string_view value) {
    out_ += html_escape(value);
    return *this;
}

Html& Html::element(std::string_view tag, std::string_view value, std::initializer_list<Attr> attrs) {
    return open(tag, attrs).text(value).close(tag);
}

Html& Html::link(std::string_view href, std::string_view value, std::initializer_list<Attr> attrs) {
    out_ += "<a href=\"";
    out_ += html_escape(href);
    out_ += '"';
    write_attrs(attrs);
    out_ += '>';
    return text(value).close("a");
}

}  // namespace pushsync::admin
