#include "common/ocpp_endpoints.hpp"

#include <fmt/format.h>

namespace pilehub::ocpp_endpoints {
namespace {

constexpr const char* kDefaultTlsUrl = "wss://localhost:${ocpp.tls_port}/ocpp";

std::string base_url(const Config& cfg, std::string_view key, std::string_view scheme) {
    auto url = cfg.get_string(key);
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    if (url.rfind(scheme, 0) != 0 || url.size() == scheme.size())
        throw ConfigError(fmt::format("config: {} must be a {}host[:port]/path URL, got `{}`", key, scheme, url));
    return url;
}

} // namespace

void add_keys(ConfigSchema& s) {
    s.add_int("ocpp.port", 18090, 0, 65535,
              "The OCPP gateway's WebSocket port (ws://, security profile 1); 0 = any free port.");
    s.add_int("ocpp.tls_port", 18453, -1, 65535,
              "The OCPP gateway's port over TLS 1.2+ (wss://, security profile 2); -1 = none, 0 = any free port.");
    s.add_string("ocpp.public_url", "ws://127.0.0.1:${ocpp.port}/ocpp",
                 "Base URL chargers are given at registration: a charger connects to <this>/<charge point id>.");
    s.add_string("ocpp.public_tls_url", kDefaultTlsUrl,
                 "Base URL of the TLS listener as chargers reach it: <this>/<charge point id> (none when "
                 "ocpp.tls_port is -1 and this is left at its default).");
}

Endpoints Endpoints::from(const Config& cfg) {
    Endpoints e;
    e.port = cfg.get_int32("ocpp.port");
    e.tls_port = cfg.get_int32("ocpp.tls_port");
    e.public_url = base_url(cfg, "ocpp.public_url", "ws://");
    // The default names the TLS port; without a TLS listener it names nothing a charger could reach.
    const bool tls_default =
        cfg.get_string("ocpp.public_tls_url") == fmt::format("wss://localhost:{}/ocpp", e.tls_port);
    if (e.tls_port != -1 || !tls_default)
        e.public_tls_url = base_url(cfg, "ocpp.public_tls_url", "wss://");
    else
        e.public_tls_url.clear();
    return e;
}

std::string Endpoints::url(std::string_view device_id) const {
    return fmt::format("{}/{}", public_url, device_id);
}

std::optional<std::string> Endpoints::tls_url(std::string_view device_id) const {
    if (public_tls_url.empty())
        return std::nullopt;
    return fmt::format("{}/{}", public_tls_url, device_id);
}

} // namespace pilehub::ocpp_endpoints
