#include "web-api/static_site.hpp"

#include "common/crypto.hpp"

#include <fstream>
#include <iterator>
#include <system_error>

namespace pilehub::api {

const char* const kWebContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

namespace {

constexpr std::string_view kVendorPrefix = "/static/vendor/";

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}

bool ends_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

/// Each segment of `rel` (below a web folder) is a plain name: no `.`/`..`, no hidden name, no
/// backslash or control character, no empty segment but a final one (a folder).
bool safe_relative(std::string_view rel) {
    std::size_t start = 0;
    while (start <= rel.size()) {
        const auto end = rel.find('/', start);
        const auto seg = rel.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (end != std::string_view::npos && seg.empty())
            return false; // `//`
        if (!seg.empty() && seg.front() == '.')
            return false; // `.`, `..`, hidden files
        for (const char c : seg)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\' || c == ':')
                return false;
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    return true;
}

void add_security_headers(StaticReply& r) {
    r.headers.emplace_back("Content-Security-Policy", kWebContentSecurityPolicy);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    // The H5 page's QR scan asks for the camera; nothing else may.
    r.headers.emplace_back("Permissions-Policy", "camera=(self), microphone=(), geolocation=(self)");
}

StaticReply redirect(std::string to) {
    StaticReply r;
    r.status = 301;
    r.location = std::move(to);
    add_security_headers(r);
    return r;
}

} // namespace

bool StaticSite::is_web_path(std::string_view p) {
    return p == "/" || p == "/console" || p == "/h5" || starts_with(p, "/console/") || starts_with(p, "/h5/") ||
           starts_with(p, "/static/");
}

std::string StaticSite::content_type_for(std::string_view name) {
    static const std::pair<std::string_view, std::string_view> kTypes[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    for (const auto& [ext, type] : kTypes)
        if (ends_with(name, ext))
            return std::string(type);
    // Licence files of vendored packages (LICENSE, LICENSE.preact) are text.
    const auto slash = name.rfind('/');
    const auto base = slash == std::string_view::npos ? name : name.substr(slash + 1);
    if (starts_with(base, "LICENSE"))
        return "text/plain; charset=utf-8";
    return {};
}

StaticReply StaticSite::get(std::string_view p, std::string_view if_none_match) const {
    if (p == "/" || p == "/console")
        return redirect("/console/");
    if (p == "/h5")
        return redirect("/h5/");
    StaticReply none;
    none.status = 404;
    if (!is_web_path(p) || root_.empty())
        return none;
    const auto rel = p.substr(1); // `console/…`, `h5/…`, `static/…`
    if (!safe_relative(rel))
        return none;
    std::string file(rel);
    if (file.back() == '/')
        file += "index.html";
    const auto type = content_type_for(file);
    if (type.empty())
        return none;
    const auto path = root_ / file;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return none;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return none;
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

    StaticReply r;
    const auto etag = "\"" + crypto::sha256_hex(body).substr(0, 32) + "\"";
    r.headers.emplace_back("ETag", etag);
    r.headers.emplace_back("Cache-Control",
                           starts_with(p, kVendorPrefix) ? "public, max-age=31536000, immutable" : "no-cache");
    add_security_headers(r);
    r.content_type = type;
    if (!if_none_match.empty() && if_none_match.find(etag) != std::string_view::npos) {
        r.status = 304;
        return r;
    }
    r.status = 200;
    r.body = std::move(body);
    return r;
}

} // namespace pilehub::api
