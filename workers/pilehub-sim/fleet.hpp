#pragma once
#include "common/json.hpp"
#include "common/socket_code.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::sim {

/// The three kinds of device the simulator plays (CONTRACT A.5).
enum class Kind { EbikePile, EvCharger, Camera };

/// The contract's word for a kind: `ebike_pile`, `ev_charger`, `camera`.
std::string_view to_string(Kind k);
/// The kind for a contract word; nullopt for anything else.
std::optional<Kind> parse_kind(std::string_view s);

/// One device of the fleet file written by `pilehubctl fleet provision`.
struct FleetDevice {
    std::string id;
    Kind kind = Kind::EbikePile;
    /// Sockets (e-bike pile), guns (EV charger) or parking spaces (camera).
    int ports = 0;
    /// The MQTT password (the device secret in clear; the broker holds its hash).
    std::string password;
    /// EV chargers only: a DC fast charger instead of an AC wallbox (optional `"dc": true`).
    bool dc = false;
    /// EV chargers only: each gun's rated power (optional `"power_w"`, 1000..400000); 0 = the
    /// default, 7 kW AC or 60 kW DC.
    std::int64_t power_w = 0;
    /// Cameras only: the EV gun each space serves (optional `"guns": {"1": "<charger id>-<n>", ...}`);
    /// a car of the camera's traffic that parks there with a new-energy plate plugs in at that gun.
    std::map<int, sockets::SocketRef> guns{};
};

/// Parses a fleet document `{"devices":[{"id","kind","sockets"|"guns"|"spaces","password"}, ...]}`.
/// Every entry is checked (id syntax, unique ids, known kind, port count 1..64 sockets or 1..16
/// guns/spaces, non-empty password; a camera's `guns` maps spaces that exist to guns that exist on
/// ev_charger entries of the same file, each gun to one space at most); the first bad entry refuses
/// the whole file with its path.
/// Entries with `"protocol": "ocpp1.6"` (OCPP chargers, with `ocpp_password` instead of `password`)
/// are left out: the simulator speaks MQTT only. `"protocol": "mqtt"` is the default.
Result<std::vector<FleetDevice>> parse_fleet(std::string_view text);

/// Reads and parses a fleet file.
Result<std::vector<FleetDevice>> load_fleet(const std::string& path);

/// Keeps only the devices named in `only` (comma-separated ids); an unknown id is an error.
Result<std::vector<FleetDevice>> select_devices(std::vector<FleetDevice> all, std::string_view only);

} // namespace pilehub::sim
