// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The admin page's HTML writer. Every value from the store, the queue file or the request enters
// the page through Html::text/Html::attr, which escape with html_escape: nothing else writes
// outside values. Tag and attribute names are literals of the page's own code.
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pushsync::admin {

// & < > " ' as character references: safe in text and in quoted attribute values.
std::string html_escape(std::string_view text);

// A query component: every byte but A-Z a-z 0-9 - . _ ~ as %XX.
std::string url_encode(std::string_view text);
// The inverse (+ is a space, as forms send it); nullopt on a broken %XX.
std::optional<std::string> url_decode(std::string_view text);

// A URL of the page: base + path + ?name=value&… with the values encoded; pairs with an empty
// value are left out.
std::string page_url(std::string_view base, std::string_view path,
                     std::initializer_list<std::pair<std::string_view, std::string_view>> query = {});

struct Attr {
    std::string_view name;   // a literal
    std::string_view value;  // escaped when written
};

class Html {
public:
    Html& doctype();
    Html& open(std::string_view tag, std::initializer_list<Attr> attrs = {});
    Html& close(std::string_view tag);
    Html& empty(std::string_view tag, std::initializer_list<Attr> attrs = {});  // <input>, <link>, <meta>
    Html& text(std::string_view value);
    // <tag attrs>value</tag>
    Html& element(std::string_view tag, std::string_view value, std::initializer_list<Attr> attrs = {});
    Html& link(std::string_view href, std::string_view value, std::initializer_list<Attr> attrs = {});

    const std::string& str() const noexcept { return out_; }
    std::string take() noexcept { return std::move(out_); }

private:
    void write_attrs(std::initializer_list<Attr> attrs);
    void start_tag(std::string_view tag, std::initializer_list<Attr> attrs);
    std::string out_;
};

}  // namespace pushsync::admin
