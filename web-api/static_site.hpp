#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// The web UIs' files (CONTRACT H): the operator console at `/console/`, the rider's H5 page at
/// `/h5/`, and what both load from `/static/` (shared modules, dictionaries, vendored npm
/// packages), read from `pilehub-api.web_root` on every request. Pure file and header rules; the
/// HTTP wiring is in http.cpp.
namespace pilehub::api {

/// What a GET of a web path answers.
struct StaticReply {
    int status = 404;                                         ///< 200, 304 (the ETag matched), 301 (to `location`), 404
    std::string body;                                         ///< the file (200 only)
    std::string content_type;                                 ///< by extension
    std::string location;                                     ///< 301: where to
    std::vector<std::pair<std::string, std::string>> headers; ///< ETag, Cache-Control and the security headers
};

/// The Content-Security-Policy of every web page: scripts, styles, fonts and connections from
/// this origin only; images also as data: and blob: URLs (QR codes, charts); no frames, objects
/// or foreign form targets.
extern const char* const kWebContentSecurityPolicy;

class StaticSite {
public:
    /// `root` holds `console/`, `h5/` and `static/`.
    explicit StaticSite(std::filesystem::path root) : root_(std::move(root)) {}

    /// Whether `url_path` (no query) is one of the web paths: `/`, `/console`, `/h5` or below
    /// `/console/`, `/h5/`, `/static/`.
    static bool is_web_path(std::string_view url_path);

    /// The answer to GET `url_path` with the request's If-None-Match (may be empty). `/` and the
    /// bare `/console` and `/h5` redirect to their folder; a folder serves its index.html. Only
    /// known file types are served; `..`, hidden names, backslashes and control characters are 404.
    /// HTML and the application's modules are `no-cache` (revalidated by ETag); files under
    /// `/static/vendor/` carry their version in the path and are `immutable` for a year.
    StaticReply get(std::string_view url_path, std::string_view if_none_match) const;

    /// The content type served for a file name, or empty when the type is not served.
    static std::string content_type_for(std::string_view file_name);

private:
    std::filesystem::path root_;
};

} // namespace pilehub::api
