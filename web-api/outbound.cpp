#include "web-api/outbound.hpp"

#include "common/crypto.hpp"

#include <httplib.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <filesystem>

namespace pilehub::api::outbound {
namespace {

constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

Response failure(std::string why) {
    Response r;
    r.error = std::move(why);
    return r;
}

} // namespace

std::optional<UrlParts> split_url(std::string_view url) {
    UrlParts u;
    const auto sep = url.find("://");
    if (sep == std::string_view::npos)
        return std::nullopt;
    u.scheme = lower(std::string(url.substr(0, sep)));
    if (u.scheme != "http" && u.scheme != "https")
        return std::nullopt;
    auto rest = url.substr(sep + 3);
    const auto end = rest.find_first_of("/?#");
    const auto authority = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    if (authority.empty() || authority.find('@') != std::string_view::npos)
        return std::nullopt;
    std::string_view host = authority, port;
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = authority.substr(1, close - 1);
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return std::nullopt;
            port = after.substr(1);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty())
        return std::nullopt;
    u.host = std::string(host);
    u.port = u.scheme == "https" ? 443 : 80;
    if (!port.empty() || authority.back() == ':') {
        int p = 0;
        auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535)
            return std::nullopt;
        u.port = p;
    }
    const bool v6 = u.host.find(':') != std::string::npos;
    u.origin = fmt::format("{}://{}{}{}:{}", u.scheme, v6 ? "[" : "", u.host, v6 ? "]" : "", u.port);
    rest = rest.substr(0, rest.find('#'));
    u.target = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
    return u;
}

bool is_loopback(std::string_view host) {
    if (host == "localhost" || host == "::1")
        return true;
    // 127.0.0.0/8 as a dotted quad only: `127.example.com` is a name anyone can register.
    if (host.rfind("127.", 0) != 0)
        return false;
    int dots = 0;
    for (std::size_t i = 0; i < host.size(); ++i) {
        if (host[i] == '.') {
            if (i + 1 == host.size() || host[i + 1] == '.')
                return false;
            ++dots;
        } else if (host[i] < '0' || host[i] > '9') {
            return false;
        }
    }
    return dots == 3;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out;
    for (const auto& [k, v] : params) {
        if (!out.empty())
            out.push_back('&');
        out += crypto::percent_encode(k);
        out.push_back('=');
        out += crypto::percent_encode(v);
    }
    return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> form_decode(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!text.empty()) {
        const auto amp = text.find('&');
        const auto pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
        if (pair.empty())
            continue;
        const auto eq = pair.find('=');
        auto k = crypto::percent_decode(pair.substr(0, eq), true);
        auto v = crypto::percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!k || !v)
            return std::nullopt;
        out.emplace_back(std::move(*k), std::move(*v));
    }
    return out;
}

HttplibClient::HttplibClient(Options options) : options_(std::move(options)) {
    if (options_.ca_file.empty() && std::filesystem::exists(kSystemCaBundle))
        options_.ca_file = kSystemCaBundle;
}

Response HttplibClient::send(const Request& r) {
    // Errors name the URL without its query: queries carry secrets (WeChat's `secret`, `access_token`).
    const std::string shown(std::string_view(r.url).substr(0, r.url.find('?')));
    try {
        const auto url = split_url(r.url);
        if (!url)
            return failure("not an absolute http(s) URL: " + shown);
        if (url->scheme == "http" && !is_loopback(url->host))
            return failure("plain http is allowed to loopback only: " + shown);
        httplib::Client cli(url->origin);
        cli.set_connection_timeout(options_.connect_timeout_s, 0);
        cli.set_read_timeout(options_.read_timeout_s, 0);
        cli.set_write_timeout(options_.read_timeout_s, 0);
        cli.set_follow_location(false);
        cli.set_keep_alive(false);
        if (url->scheme == "https") {
            cli.enable_server_certificate_verification(true);
            if (!options_.ca_file.empty())
                cli.set_ca_cert_path(options_.ca_file);
        }

        httplib::Request req;
        req.method = r.method;
        req.path = url->target;
        for (const auto& [k, v] : r.headers)
            req.headers.emplace(k, v);
        if (!r.body.empty() || r.method == "POST") {
            req.body = r.body;
            if (!r.content_type.empty())
                req.headers.emplace("Content-Type", r.content_type);
        }
        std::string body;
        bool too_large = false;
        req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
            if (body.size() + n > options_.max_response_bytes) {
                too_large = true;
                return false;
            }
            body.append(data, n);
            return true;
        };

        httplib::Response res;
        httplib::Error err = httplib::Error::Success;
        if (!cli.send(req, res, err)) {
            if (too_large)
                return failure(fmt::format("{} {}: the answer is larger than {} bytes", r.method, shown,
                                           options_.max_response_bytes));
            return failure(fmt::format("{} {}: {}", r.method, shown, httplib::to_string(err)));
        }
        Response out;
        out.status = res.status;
        for (const auto& [k, v] : res.headers)
            out.headers.emplace(lower(k), v);
        out.body = std::move(body);
        return out;
    } catch (const std::exception& e) {
        return failure(fmt::format("{} {}: {}", r.method, shown, e.what()));
    }
}

} // namespace pilehub::api::outbound
