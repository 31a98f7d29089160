#pragma once
#include "common/config.hpp"

#include <optional>
#include <string>
#include <string_view>

/// Where OCPP chargers reach the gateway (CONTRACT D.2): the `ocpp.*` keys that the gateway
/// (pilehub-ocpp, which listens there) and the registration paths (pilehub-api, which hands each
/// charger its URL) read from the one installation file.
namespace pilehub::ocpp_endpoints {

/// Adds `ocpp.port`, `ocpp.tls_port`, `ocpp.public_url` and `ocpp.public_tls_url`, documented.
void add_keys(ConfigSchema& schema);

/// The gateway's ports and the public base URLs chargers are given.
struct Endpoints {
    int port = 18090;     ///< `ocpp.port`: the plain WebSocket listener (security profile 1); 0 = any free port
    int tls_port = 18453; ///< `ocpp.tls_port`: the TLS listener (profile 2); -1 = none, 0 = any free port
    std::string public_url = "ws://127.0.0.1:18090/ocpp"; ///< `ocpp.public_url`, no trailing slash
    /// `ocpp.public_tls_url`, no trailing slash; empty when there is no TLS listener (`ocpp.tls_port`
    /// -1) and the key was left at its default.
    std::string public_tls_url = "wss://localhost:18453/ocpp";

    /// Reads the keys; throws ConfigError when a public URL is not `ws://…` / `wss://…`.
    static Endpoints from(const Config& cfg);
    /// `<public_url>/<charge point id>`: where charger `device_id` connects.
    std::string url(std::string_view device_id) const;
    /// `<public_tls_url>/<charge point id>`; nullopt without a TLS URL.
    std::optional<std::string> tls_url(std::string_view device_id) const;
};

} // namespace pilehub::ocpp_endpoints
