#include "ctl_commands.hpp"

#include "common/broker_auth.hpp"
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/files.hpp"
#include "common/json.hpp"
#include "common/ocpp_endpoints.hpp"
#include "common/ocpp_identity.hpp"
#include "common/password.hpp"
#include "common/registry.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>

namespace pilehub::ctl {
namespace {

EpochMs now() {
    return SystemClock::instance().now_ms();
}

std::unique_ptr<db::Database> open_core(const Config& cfg) {
    std::filesystem::create_directories(std::filesystem::path(cfg.get_string("db.path")).parent_path());
    db::Database::Options o;
    o.busy_timeout_ms = cfg.get_int32("db.busy_timeout_ms");
    auto d = std::make_unique<db::Database>(cfg.get_string("db.path"), o);
    db::migrate(*d, db::core_migrations());
    return d;
}

/// Rewrites the broker's password file from the database and asks a running broker to reload.
void sync_broker(const Config& cfg, registry::Store& store) {
    std::string why;
    if (registry::sync_broker_credentials(store, cfg.get_string("broker.password_file"),
                                          cfg.get_string("broker.pid_file"), &why))
        std::cerr << "pilehubctl: broker reloaded; new credentials are in force\n";
    else
        std::cerr << "pilehubctl: " << why << "\n";
}

std::int64_t parse_micro_degrees(const std::string& s, double limit, const char* what) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) || std::fabs(v) > limit)
        throw ConfigError(fmt::format("{} must be a number of degrees within ±{}, got `{}`", what, limit, s));
    return std::llround(v * 1e6); // coordinates, not money: a double is fine here
}

bool valid_open_hours(const std::string& s) {
    // HH:MM-HH:MM, 24:00 allowed as an end.
    if (s.size() != 11 || s[2] != ':' || s[5] != '-' || s[8] != ':')
        return false;
    auto num = [&](std::size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); };
    for (std::size_t i : {0u, 1u, 3u, 4u, 6u, 7u, 9u, 10u})
        if (s[i] < '0' || s[i] > '9')
            return false;
    return num(0) < 24 && num(3) < 60 && (num(6) < 24 || (num(6) == 24 && num(9) == 0)) && num(9) < 60;
}

struct NewDevice {
    std::string id;
    registry::DeviceKind kind;
    registry::Protocol protocol;
    int ports;
    registry::IssuedSecrets secrets;
};

/// Prints what a device was just issued, `key=value` lines: an MQTT device's username and password, or an
/// OCPP charger's URLs and key (it never speaks MQTT itself).
void print_issued(const Config& cfg, const std::string& id, const registry::IssuedSecrets& issued) {
    if (!issued.ocpp_password.empty()) {
        const auto ends = ocpp_endpoints::Endpoints::from(cfg);
        std::cout << fmt::format("ocpp_url={}\n", ends.url(id));
        if (const auto tls = ends.tls_url(id))
            std::cout << fmt::format("ocpps_url={}\n", *tls);
        std::cout << fmt::format("ocpp_password={}\n", issued.ocpp_password);
    } else {
        std::cout << fmt::format("mqtt_username={}\nmqtt_password={}\n", id, issued.mqtt_password);
    }
}

NewDevice add_device(const Config& cfg, registry::Store& store, const std::string& id, registry::DeviceKind kind,
                     std::optional<std::int64_t> station, int ports, const std::string& name,
                     const std::vector<registry::Connector>& connectors = {},
                     registry::Protocol protocol = registry::Protocol::Mqtt) {
    if (!topics::valid_device_id(id))
        throw ConfigError(fmt::format("device id `{}` is not [A-Za-z0-9_-]{{1,48}}", id));
    if (station && !store.station(*station))
        throw ConfigError(fmt::format("station {} does not exist", *station));
    if (ports < 1 || ports > registry::max_ports(kind))
        throw ConfigError(
            fmt::format("a {} has 1..{} ports, not {}", registry::to_string(kind), registry::max_ports(kind), ports));
    if (!connectors.empty() && kind != registry::DeviceKind::EvCharger)
        throw ConfigError("--connector is for ev_charger devices");
    if (const auto why = registry::connectors_problem(connectors, ports))
        throw ConfigError(*why);
    if (const auto why = registry::protocol_problem(kind, protocol))
        throw ConfigError(*why);
    if (store.device(id))
        throw ConfigError(fmt::format("device {} already exists", id));
    registry::Device rec;
    rec.id = id;
    rec.kind = kind;
    rec.protocol = protocol;
    rec.station_id = station;
    rec.ports = ports;
    rec.connectors = connectors;
    rec.name = name;
    return NewDevice{id, kind, protocol, ports,
                     registry::register_device(store, rec, cfg.get_string("data_dir"), now())};
}

} // namespace

std::string Args::get(const std::string& name, const std::string& def) const {
    auto it = flags.find(name);
    return it == flags.end() ? def : it->second;
}

std::string Args::require(const std::string& name) const {
    auto it = flags.find(name);
    if (it == flags.end() || it->second.empty())
        throw ConfigError("--" + name + " is required");
    return it->second;
}

std::int64_t Args::get_int(const std::string& name, std::int64_t def, std::int64_t min, std::int64_t max) const {
    auto it = flags.find(name);
    if (it == flags.end())
        return def;
    std::int64_t v = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max)
        throw ConfigError(fmt::format("--{} must be an integer in {}..{}, got `{}`", name, min, max, s));
    return v;
}

void add_keys(ConfigSchema& s) {
    s.add_string("broker.password_file", "${data_dir}/broker/passwd",
                 "The Mosquitto password file pilehubctl rewrites.");
    s.add_string("broker.pid_file", "${run_dir}/mosquitto.pid", "The running broker's pid, for SIGHUP reloads.");
    s.add_string("secrets_dir", "${data_dir}/secrets", "Where the passwords of our own processes are written (0600).");
    ocpp_endpoints::add_keys(s);
}

int cmd_migrate(const Config& cfg, const Args& a) {
    if (a.has("check"))
        return migrate_check(cfg);
    auto core = open_core(cfg);
    std::cout << fmt::format("core database {} at schema version {}\n", cfg.get_string("db.path"),
                             core->user_version());
    db::Database tele(cfg.get_string("db.telemetry_path"));
    db::migrate(tele, db::telemetry_migrations());
    std::cout << fmt::format("telemetry database {} at schema version {}\n", cfg.get_string("db.telemetry_path"),
                             tele.user_version());
    return 0;
}

int cmd_operator(const Config& cfg, const Args& a) {
    if (a.words.size() != 3 || a.words[1] != "add")
        throw ConfigError("usage: operator add NAME");
    auto d = open_core(cfg);
    registry::Store store(*d);
    std::cout << store.ensure_operator(a.words[2], now()) << "\n";
    return 0;
}

int cmd_station(const Config& cfg, const Args& a) {
    if (a.words.size() != 2 || a.words[1] != "add")
        throw ConfigError("usage: station add --operator NAME --name NAME --lat DEG --lon DEG ...");
    auto d = open_core(cfg);
    registry::Store store(*d);
    registry::Station s;
    const auto op = a.require("operator");
    auto op_id = store.find_operator(op);
    if (!op_id)
        throw ConfigError(fmt::format("operator `{}` does not exist (pilehubctl operator add)", op));
    s.operator_id = *op_id;
    s.name = a.require("name");
    if (s.name.size() > 100)
        throw ConfigError("--name is longer than 100 bytes");
    s.lat_e6 = parse_micro_degrees(a.require("lat"), 90, "--lat");
    s.lon_e6 = parse_micro_degrees(a.require("lon"), 180, "--lon");
    s.address = a.get("address");
    s.open_hours = a.get("open-hours", "00:00-24:00");
    if (!valid_open_hours(s.open_hours))
        throw ConfigError("--open-hours must be HH:MM-HH:MM, got `" + s.open_hours + "`");
    try {
        std::cout << store.add_station(s, now()) << "\n";
    } catch (const db::Error& e) {
        if (e.is_constraint())
            throw ConfigError(fmt::format("station `{}` already exists for operator `{}`", s.name, op));
        throw;
    }
    return 0;
}

int cmd_device(const Config& cfg, const Args& a) {
    if (a.words.size() < 2)
        throw ConfigError("usage: device add|list|remove|rotate ...");
    auto d = open_core(cfg);
    registry::Store store(*d);
    const auto& sub = a.words[1];
    if (sub == "list") {
        std::optional<std::int64_t> station;
        if (a.has("station"))
            station = a.get_int("station", 0, 1, INT64_MAX);
        for (const auto& dev : store.devices(station))
            std::cout << fmt::format("{}\t{}\t{}\tstation={}\tports={}\t{}\n", dev.id, registry::to_string(dev.kind),
                                     registry::to_string(dev.protocol),
                                     dev.station_id ? std::to_string(*dev.station_id) : "stock", dev.ports,
                                     dev.enabled ? "enabled" : "disabled");
        return 0;
    }
    if (a.words.size() != 3)
        throw ConfigError("usage: device " + sub + " ID");
    const auto& id = a.words[2];
    if (!topics::valid_device_id(id))
        throw ConfigError(fmt::format("device id `{}` is not [A-Za-z0-9_-]{{1,48}}", id));
    if (sub == "add") {
        const auto kind = registry::parse_kind(a.require("kind"));
        if (!kind)
            throw ConfigError("--kind must be ebike_pile, ev_charger or camera");
        const int def_ports = *kind == registry::DeviceKind::EbikePile   ? 10
                              : *kind == registry::DeviceKind::EvCharger ? 2
                                                                         : 4;
        // A charger's ports are its guns (CONTRACT D.1 names the count `guns`).
        const auto ports_flag = *kind == registry::DeviceKind::EvCharger && a.has("guns") ? "guns" : "ports";
        const auto ports = static_cast<int>(a.get_int(ports_flag, def_ports, 1, registry::max_ports(*kind)));
        std::vector<registry::Connector> connectors;
        if (auto it = a.lists.find("connector"); it != a.lists.end())
            for (const auto& text : it->second) {
                std::string why;
                const auto c = registry::parse_connector_arg(text, &why);
                if (!c)
                    throw ConfigError("--connector: " + why);
                connectors.push_back(*c);
            }
        const auto protocol = registry::parse_protocol(a.get("protocol", "mqtt"));
        if (!protocol)
            throw ConfigError("--protocol must be mqtt or ocpp1.6");
        // Without --station the device is registered into stock (CONTRACT G "Lifecycle").
        std::optional<std::int64_t> station;
        if (a.has("station"))
            station = a.get_int("station", 0, 1, INT64_MAX);
        auto nd = add_device(cfg, store, id, *kind, station, ports, a.get("name"), connectors, *protocol);
        sync_broker(cfg, store);
        print_issued(cfg, nd.id, nd.secrets);
        return 0;
    }
    if (sub == "remove") {
        if (!store.remove_device(id)) {
            std::cerr << "pilehubctl: no device " << id << "\n";
            return 1;
        }
        sync_broker(cfg, store);
        return 0;
    }
    if (sub == "rotate") {
        const auto issued = registry::rotate_secret(store, id, now());
        if (!issued) {
            std::cerr << "pilehubctl: no device " << id << "\n";
            return 1;
        }
        // An OCPP key is checked by the gateway in the database; only MQTT secrets are the broker's.
        if (!issued->mqtt_password.empty())
            sync_broker(cfg, store);
        print_issued(cfg, id, *issued);
        return 0;
    }
    throw ConfigError("unknown device command `" + sub + "`");
}

int cmd_admin(const Config& cfg, const Args& a) {
    if (a.words.size() != 3 || a.words[1] != "create")
        throw ConfigError("usage: admin create USERNAME [--password-file F] [--role ROLE] [--operator NAME]");
    const auto& user = a.words[2];
    if (user.empty() || user.size() > 64 || user.find_first_of(" \t\n:") != std::string::npos)
        throw ConfigError("admin user names are 1..64 characters without spaces or colons");
    auto d = open_core(cfg);
    registry::Store store(*d);
    if (store.admin_exists(user))
        throw ConfigError("admin `" + user + "` already exists");
    std::string pw;
    const bool generated = !a.has("password-file");
    pw = generated ? broker::random_secret() : read_secret_file(a.get("password-file"));
    if (const auto why = password::password_problem(pw))
        throw ConfigError("an admin password " + *why);
    std::optional<std::int64_t> op;
    if (a.has("operator")) {
        op = store.find_operator(a.get("operator"));
        if (!op)
            throw ConfigError("operator `" + a.get("operator") + "` does not exist");
    }
    store.add_admin(user, password::hash(pw), a.get("role", "admin"), op, now());
    std::cout << "admin " << user << " created\n";
    if (generated)
        std::cout << "password=" << pw << "\n";
    return 0;
}

int cmd_services(const Config& cfg, const Args& a) {
    if (a.words.size() != 2 || a.words[1] != "init")
        throw ConfigError("usage: services init");
    auto d = open_core(cfg);
    registry::Store store(*d);
    const auto dir = cfg.get_string("secrets_dir");
    files::ensure_private_directory(dir);
    int created = 0;
    for (const auto& user : broker::service_users()) {
        const auto file = fmt::format("{}/{}.pass", dir, user);
        // Keep a secret that exists on both sides; otherwise issue a new one.
        if (std::filesystem::exists(file) && store.has_service_credential(user))
            continue;
        const auto secret = broker::random_secret();
        files::write_private_file_atomically(file, secret + "\n");
        store.set_service_credential(user, broker::hash_password(secret), now());
        ++created;
    }
    // The OCPP gateway's key, from which its chargers' MQTT passwords are derived (common/ocpp_identity.hpp),
    // exists before the gateway first starts.
    ocpp_identity::load_or_create_key(ocpp_identity::key_path(cfg.get_string("data_dir")));
    sync_broker(cfg, store);
    std::cout << fmt::format("{} service credentials created, {} kept, in {}\n", created,
                             broker::service_users().size() - static_cast<std::size_t>(created), dir);
    return 0;
}

int cmd_broker(const Config& cfg, const Args& a) {
    if (a.words.size() != 2 || a.words[1] != "sync")
        throw ConfigError("usage: broker sync");
    auto d = open_core(cfg);
    registry::Store store(*d);
    sync_broker(cfg, store);
    return 0;
}

int cmd_fleet(const Config& cfg, const Args& a) {
    if (a.words.size() != 2 || a.words[1] != "provision")
        throw ConfigError("usage: fleet provision --station ID --out FILE ...");
    auto d = open_core(cfg);
    registry::Store store(*d);
    const auto station = a.get_int("station", 0, 1, INT64_MAX);
    const auto out = a.require("out");
    const auto prefix = a.get("prefix", "sim");
    const auto ebike = a.get_int("ebike", 0, 0, 100000);
    const auto sockets = a.get_int("ebike-sockets", 10, 1, 64);
    const auto ev = a.get_int("ev", 0, 0, 10000);
    const auto guns = a.get_int("guns", 2, 1, 16);
    const auto ocpp = a.get_int("ocpp", 0, 0, 10000);
    const auto cams = a.get_int("camera", 0, 0, 10000);
    const auto spaces = a.get_int("spaces", 4, 1, 16);
    std::vector<NewDevice> made;
    // One transaction per device keeps each registration atomic; fine for thousands.
    for (std::int64_t i = 1; i <= ebike; ++i)
        made.push_back(add_device(cfg, store, fmt::format("{}-e{:05}", prefix, i), registry::DeviceKind::EbikePile,
                                  station, static_cast<int>(sockets), "simulated e-bike pile"));
    for (std::int64_t i = 1; i <= ev; ++i)
        made.push_back(add_device(cfg, store, fmt::format("{}-ev{:03}", prefix, i), registry::DeviceKind::EvCharger,
                                  station, static_cast<int>(guns), "simulated EV charger"));
    for (std::int64_t i = 1; i <= ocpp; ++i)
        made.push_back(add_device(cfg, store, fmt::format("{}-ocpp-{:03}", prefix, i), registry::DeviceKind::EvCharger,
                                  station, static_cast<int>(guns), "simulated OCPP charger", {},
                                  registry::Protocol::Ocpp16));
    for (std::int64_t i = 1; i <= cams; ++i)
        made.push_back(add_device(cfg, store, fmt::format("{}-cam{:03}", prefix, i), registry::DeviceKind::Camera,
                                  station, static_cast<int>(spaces), "simulated camera"));
    const auto ends = ocpp_endpoints::Endpoints::from(cfg);
    // The cameras' spaces serve the MQTT chargers' guns in order (camera 1 space 1 → charger 1 gun 1,
    // space 2 → gun 2, …, then the next camera goes on where it stopped) as far as there are guns: in
    // the registry (spaces.ev_gun, what parkingd deducts charging time by) and in the fleet file (where
    // pilehub-sim's parking traffic plugs its cars in).
    std::vector<std::string> free_guns;
    for (const auto& m : made)
        if (m.kind == registry::DeviceKind::EvCharger && m.protocol == registry::Protocol::Mqtt)
            for (int n = 1; n <= m.ports; ++n)
                free_guns.push_back(fmt::format("{}-{}", m.id, n));
    std::size_t next_gun = 0;
    json::Writer w;
    w.begin_object().key("devices").begin_array();
    for (const auto& m : made) {
        w.begin_object().field("id", m.id).field("kind", registry::to_string(m.kind));
        w.field(m.kind == registry::DeviceKind::EbikePile   ? "sockets"
                : m.kind == registry::DeviceKind::EvCharger ? "guns"
                                                            : "spaces",
                m.ports);
        if (m.protocol == registry::Protocol::Ocpp16)
            w.field("protocol", registry::to_string(m.protocol))
                .field("ocpp_url", ends.url(m.id))
                .field("ocpp_password", m.secrets.ocpp_password);
        else
            w.field("password", m.secrets.mqtt_password);
        if (m.kind == registry::DeviceKind::Camera && next_gun < free_guns.size()) {
            w.key("guns").begin_object();
            for (int space = 1; space <= m.ports && next_gun < free_guns.size(); ++space) {
                store.set_space_gun(m.id, space, free_guns[next_gun]);
                w.field(std::to_string(space), free_guns[next_gun++]);
            }
            w.end_object();
        }
        w.end_object();
    }
    w.end_array().end_object();
    files::write_private_file_atomically(out, w.str() + "\n");
    sync_broker(cfg, store);
    std::cout << fmt::format("{} devices registered; secrets written to {}\n", made.size(), out);
    return 0;
}

} // namespace pilehub::ctl
