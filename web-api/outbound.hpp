#pragma once
#include "common/clock.hpp"
#include "common/config.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Calls from the API to the providers (WeChat, WeChat Pay, Alipay, Aliyun SMS): one seam, so a
/// provider's code never opens a socket itself and the base URLs come from the configuration.
namespace pilehub::api::outbound {

struct Request {
    std::string method = "GET"; ///< GET or POST
    std::string url;            ///< absolute: `https://api.mch.weixin.qq.com/v3/...` or `http://127.0.0.1:port/...`
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string content_type; ///< for a POST body
};

struct Response {
    int status = 0;                             ///< 0: no answer (then `error` says why)
    std::map<std::string, std::string> headers; ///< names in lower case
    std::string body;
    std::string error;
    bool ok() const { return status >= 200 && status < 300; }
};

/// Sends requests. Implementations are safe to call from several threads at once.
class Client {
public:
    virtual ~Client() = default;
    virtual Response send(const Request& r) = 0;
};

/// An absolute URL split for an HTTP client: where to connect and what to ask for.
struct UrlParts {
    std::string scheme; ///< `http` or `https`
    std::string host;   ///< as written (an IPv6 literal without its brackets)
    int port = 0;       ///< explicit, or 80 / 443 by scheme
    std::string origin; ///< `scheme://host:port` (brackets kept for IPv6)
    std::string target; ///< path and query, from the first `/` (`/` when the URL has none); no fragment
};
/// Splits `scheme://host[:port][/path][?query]`; nothing for another scheme, user info, an empty
/// host or a bad port.
std::optional<UrlParts> split_url(std::string_view url);
/// Whether `host` is this machine's loopback (a dotted quad `127.x.x.x`, `::1`, `localhost`): the only hosts plain
/// `http` may reach.
bool is_loopback(std::string_view host);

/// Name/value pairs as `application/x-www-form-urlencoded` text, each side percent-encoded
/// (RFC 3986 unreserved kept; a space is `%20`), in the given order.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& params);
/// Parses a form body or a query string (`a=1&b=x%20y+z`: `+` is a space); a pair without `=` has an
/// empty value. Nothing for a malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> form_decode(std::string_view text);

/// Client over cpp-httplib (built with OpenSSL): https verifies the server's certificate against
/// the system's CA bundle; plain http only to loopback (the test stubs). One connection per request
/// (providers are called a few times a minute). Never throws: a failure is status 0 with `error`.
class HttplibClient final : public Client {
public:
    struct Options {
        int connect_timeout_s = 5;
        int read_timeout_s = 10;                  ///< also the write time-out
        std::size_t max_response_bytes = 1 << 20; ///< a longer body is an error (status 0)
        std::string ca_file;                      ///< empty: the system bundle
    };
    HttplibClient() : HttplibClient(Options{}) {}
    explicit HttplibClient(Options options);
    Response send(const Request& r) override;

private:
    Options options_;
};

/// A provider client built from the settings at start-up: `P::config_from(settings)` (which reads
/// the key files, throwing ConfigError naming an unreadable one), then `P(config, http, clock)`, whose
/// std::invalid_argument (a bad key, size or URL, naming its configuration key) becomes a ConfigError.
template <typename P, typename Settings>
std::unique_ptr<P> build_checked(const Settings& settings, Client& http, const Clock& clock) {
    auto config = P::config_from(settings);
    try {
        return std::make_unique<P>(std::move(config), http, clock);
    } catch (const std::invalid_argument& e) {
        throw ConfigError(std::string("config: ") + e.what());
    }
}

} // namespace pilehub::api::outbound
