#include "web-api/static_site.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace pilehub::api;
namespace fs = std::filesystem;

namespace {

/// A web root in a temp folder with a console, an H5 page, a module and a vendored file.
struct WebRoot {
    fs::path dir = fs::temp_directory_path() / ("pilehub-static-site-" + std::to_string(::getpid()));
    WebRoot() {
        fs::remove_all(dir);
        write("console/index.html", "<!doctype html><title>console</title>");
        write("h5/index.html", "<!doctype html><title>h5</title>");
        write("static/lib/api.js", "export const x = 1;\n");
        write("static/vendor/htm-3.1.1/standalone.module.js", "export const h = 1;\n");
        write("static/vendor/htm-3.1.1/LICENSE", "MIT\n");
        write("static/.secret.js", "no\n");
        write("static/notes.exe", "no\n");
        write("pilehub.db", "no\n");
    }
    ~WebRoot() { fs::remove_all(dir); }
    void write(const std::string& rel, const std::string& text) {
        fs::create_directories((dir / rel).parent_path());
        std::ofstream(dir / rel) << text;
    }
};

std::string header(const StaticReply& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name)
            return v;
    return {};
}

} // namespace

TEST_CASE("web files: a folder serves its index.html as HTML with the strict policy and no-cache") {
    WebRoot w;
    const StaticSite site(w.dir);
    const auto r = site.get("/console/", "");
    CHECK(r.status == 200);
    CHECK(r.body.find("<title>console</title>") != std::string::npos);
    CHECK(r.content_type == "text/html; charset=utf-8");
    CHECK(header(r, "Content-Security-Policy").find("script-src 'self';") != std::string::npos);
    CHECK(header(r, "Content-Security-Policy").find("unsafe") == std::string::npos);
    CHECK(header(r, "X-Content-Type-Options") == "nosniff");
    CHECK(header(r, "Cache-Control") == "no-cache");
    CHECK(site.get("/h5/", "").body.find("<title>h5</title>") != std::string::npos);
}

TEST_CASE("web files: modules are JavaScript revalidated by ETag; a matching If-None-Match is 304 without body") {
    WebRoot w;
    const StaticSite site(w.dir);
    const auto r = site.get("/static/lib/api.js", "");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "text/javascript; charset=utf-8");
    const auto etag = header(r, "ETag");
    REQUIRE(etag.size() == 34);
    const auto again = site.get("/static/lib/api.js", etag);
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(header(again, "ETag") == etag);
    w.write("static/lib/api.js", "export const x = 2;\n"); // edited: a new tag, the new text
    const auto edited = site.get("/static/lib/api.js", etag);
    CHECK(edited.status == 200);
    CHECK(header(edited, "ETag") != etag);
}

TEST_CASE("web files: vendored packages carry their version in the path and are immutable for a year") {
    WebRoot w;
    const StaticSite site(w.dir);
    const auto r = site.get("/static/vendor/htm-3.1.1/standalone.module.js", "");
    CHECK(r.status == 200);
    CHECK(header(r, "Cache-Control") == "public, max-age=31536000, immutable");
    const auto lic = site.get("/static/vendor/htm-3.1.1/LICENSE", "");
    CHECK(lic.status == 200);
    CHECK(lic.content_type == "text/plain; charset=utf-8");
}

TEST_CASE("web files: the bare folders and the root redirect to the console and the H5 page") {
    WebRoot w;
    const StaticSite site(w.dir);
    CHECK(site.get("/", "").status == 301);
    CHECK(site.get("/", "").location == "/console/");
    CHECK(site.get("/console", "").location == "/console/");
    CHECK(site.get("/h5", "").location == "/h5/");
}

TEST_CASE("web files: traversal, hidden names, unknown types and paths outside the web folders are 404") {
    WebRoot w;
    const StaticSite site(w.dir);
    for (const char* p : {"/static/../pilehub.db", "/console/../../etc/passwd", "/static/.secret.js",
                          "/static/notes.exe", "/static//lib/api.js", "/static/lib\\api.js", "/pilehub.db",
                          "/static/lib/missing.js", "/static/lib/", "/api/v1/x", "/static/lib/api.js\x01"}) {
        CAPTURE(p);
        CHECK(site.get(p, "").status == 404);
    }
    CHECK_FALSE(StaticSite::is_web_path("/api/v1/health"));
    CHECK(StaticSite::is_web_path("/console/pages/devices.js"));
}

TEST_CASE("web files: no root configured serves nothing") {
    const StaticSite site{fs::path()};
    CHECK(site.get("/console/", "").status == 404);
}
