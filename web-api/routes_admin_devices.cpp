// Devices and their sockets: registration with MQTT credentials, live state, remote commands,
// configuration (cfg/desired), QR codes.
#include "common/log.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/socket_code.hpp"
#include "common/topics.hpp"
#include "web-api/device_cache.hpp"
#include "web-api/device_config_store.hpp"
#include "web-api/device_model_store.hpp"
#include "web-api/device_placement.hpp"
#include "web-api/monitor_store.hpp"
#include "web-api/openapi_schemas_admin.hpp"
#include "web-api/qr.hpp"
#include "web-api/routes_common.hpp"
#include "web-api/telemetry_store.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>

namespace pilehub::api {

DeviceRow device_in_scope(CatalogStore& cat, const Principal& who, const std::string& id) {
    auto d = cat.device(id);
    if (!d || !sees_device(who, *d))
        fail(ErrorCode::UnknownDevice, "no such device");
    return *d;
}

namespace {

/// A production date `YYYY-MM-DD` that is a calendar day.
bool valid_date(const std::string& text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-')
        return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(text[i])))
            return false;
    const std::chrono::year_month_day day{std::chrono::year(std::stoi(text.substr(0, 4))),
                                          std::chrono::month(static_cast<unsigned>(std::stoi(text.substr(5, 2)))),
                                          std::chrono::day(static_cast<unsigned>(std::stoi(text.substr(8, 2))))};
    return day.ok();
}

/// What a device model implies for a registration (CONTRACT G "Lifecycle", seed 004 设备类型): the port count
/// (a different count given is refused), a charger's connectors (each gun the model's connector and power),
/// the model's name; returns the model. Its socket and device overload defaults are applied after the insert.
DeviceModelRow apply_model(db::Database& d, std::int64_t model_id, registry::Device& dev,
                           std::optional<std::int64_t>& sockets, std::optional<std::int64_t>& guns,
                           std::vector<registry::Connector>& connectors) {
    const auto m = DeviceModelStore(d).model(model_id);
    if (!m)
        fail(ErrorCode::NotFound, "no such device model");
    if (m->kind != registry::to_string(dev.kind))
        fail(ErrorCode::InvalidRequest, fmt::format("model {} is a {} model", m->name, m->kind));
    const auto given = guns ? guns : sockets;
    if (given && *given != m->ports)
        fail(ErrorCode::InvalidRequest, fmt::format("model {} has {} ports, not {}", m->name, m->ports, *given));
    (dev.kind == registry::DeviceKind::EvCharger ? guns : sockets) = m->ports;
    if (connectors.empty() && m->connector_type && m->gun_power_w)
        for (int n = 1; n <= m->ports; ++n)
            connectors.push_back(registry::Connector{
                n, registry::parse_connector_type(*m->connector_type).value_or(registry::ConnectorType::GbtAc),
                *m->gun_power_w});
    return *m;
}

/// The configuration keys a model sets in a new e-bike pile's first cfg/desired document.
std::optional<rapidjson::Document> model_config(const DeviceModelRow& m) {
    if (m.kind != "ebike_pile" || (!m.socket_overload_w && !m.device_overload_w))
        return std::nullopt;
    json::Writer w;
    w.begin_object();
    w.opt_field("socket_overload_w", m.socket_overload_w).opt_field("device_overload_w", m.device_overload_w);
    w.end_object();
    rapidjson::Document doc;
    doc.Parse(w.str().c_str());
    return doc;
}

/// The current desired data object (version and values), defaults if none was ever saved.
/// `Desired` is the kind's cfg/desired payload (payloads::EbikeCfgDesired, payloads::EvCfgDesired).
template <typename Desired> DesiredConfig current_desired(const std::optional<DesiredConfig>& stored) {
    if (stored)
        return *stored;
    Desired def;
    def.version = 0;
    payloads::Message<Desired> m{payloads::make_envelope(0, 0, 0), def};
    // The data object of the encoded defaults.
    auto doc = json::parse(payloads::encode(m));
    json::Writer w;
    w.raw_value((*doc)["data"]); // our own encoding: data is present
    return {0, w.str()};
}

/// Builds and validates the cfg/desired document that follows `stored` with `changes` applied;
/// returns its data object (to save) and the message text (to publish). A key the kind's document
/// does not have (an e-bike key for a charger, or the other way round) is refused.
template <typename Desired>
std::pair<DesiredConfig, std::string> next_desired(Services& s, const std::optional<DesiredConfig>& stored,
                                                   const rapidjson::Value* changes, std::string_view kind) {
    auto [version, data] = current_desired<Desired>(stored);
    rapidjson::Document doc;
    doc.Parse(data.c_str());
    if (!doc.IsObject())
        doc.SetObject();
    // The codec writes every key, so the defaults name every key of the kind.
    rapidjson::Document keys;
    keys.Parse(current_desired<Desired>(std::nullopt).data.c_str());
    if (changes) {
        for (auto it = changes->MemberBegin(); it != changes->MemberEnd(); ++it) {
            const std::string key(it->name.GetString(), it->name.GetStringLength());
            if (!keys.IsObject() || !keys.HasMember(key.c_str()))
                fail(ErrorCode::InvalidRequest, fmt::format("{} is not a configuration key of an {}", key, kind));
            rapidjson::Value v;
            v.CopyFrom(it->value, doc.GetAllocator());
            if (doc.HasMember(key.c_str()))
                doc[key.c_str()] = v;
            else
                doc.AddMember(rapidjson::Value(key.c_str(), doc.GetAllocator()), v, doc.GetAllocator());
        }
    }
    const auto next = version + 1;
    if (doc.HasMember("version"))
        doc["version"].SetInt64(next);
    else
        doc.AddMember("version", rapidjson::Value(static_cast<std::int64_t>(next)), doc.GetAllocator());
    json::Writer w;
    w.begin_object().field("v", payloads::kVersion).field("ts", s.now()).field("boot", 0).field("seq", next);
    w.key("data").raw_value(doc).end_object();
    auto decoded = payloads::decode<Desired>(w.str());
    if (!decoded)
        fail(ErrorCode::InvalidRequest, decoded.error());
    const auto text = payloads::encode(*decoded);
    auto enc = json::parse(text);
    json::Writer dw;
    dw.raw_value((*enc)["data"]);
    return {DesiredConfig{next, dw.str()}, text};
}

/// Builds, validates and saves (one transaction) the next cfg/desired document of a device of
/// `kind` (`ebike_pile` or `ev_charger`); returns (version, message text).
std::pair<std::int64_t, std::string> save_next_desired(Services& s, db::Database& d, const std::string& device,
                                                       const rapidjson::Value* changes,
                                                       std::string_view kind = "ebike_pile") {
    std::string message;
    const auto saved =
        DeviceConfigStore(d).update_desired(device, s.now(), [&](const std::optional<DesiredConfig>& stored) {
            auto [next, text] = kind == "ev_charger"
                                    ? next_desired<payloads::EvCfgDesired>(s, stored, changes, kind)
                                    : next_desired<payloads::EbikeCfgDesired>(s, stored, changes, kind);
            message = std::move(text);
            return next;
        });
    return {saved.version, message};
}

void write_config(json::Writer& w, Services& s, db::Database& d, const std::string& device) {
    const auto row = DeviceConfigStore(d).config(device);
    const bool have = row.has_value();
    w.key("desired");
    if (have && row->desired.version > 0) {
        auto doc = json::parse(row->desired.data);
        if (doc)
            w.raw_value(*doc);
        else
            w.null();
    } else {
        w.null();
    }
    std::string reported;
    if (s.devices)
        if (auto live = s.devices->device(device))
            reported = live->reported_json;
    if (reported.empty() && have && row->reported)
        reported = *row->reported;
    w.key("reported");
    if (auto doc = json::parse(reported); !reported.empty() && doc)
        w.raw_value(*doc);
    else
        w.null();
    bool in_sync = false;
    if (auto rep = json::parse(reported); !reported.empty() && rep && rep->IsObject() && have) {
        auto v = rep->FindMember("version");
        in_sync = v != rep->MemberEnd() && v->value.IsInt64() && v->value.GetInt64() == row->desired.version;
    }
    w.field("in_sync", in_sync);
}

/// `connectors` of a registration: each `{n, type, rated_power_w}`. Shape errors are the body's
/// (invalid_request); a type that is not a connector word, a gun number or a power out of range
/// are invalid_connector (registry::connectors_problem).
std::vector<registry::Connector> read_connectors(json::Object& body) {
    std::vector<registry::Connector> out;
    auto arr = body.opt_arr("connectors", 16);
    for (std::size_t i = 0; i < arr.size(); ++i) {
        auto o = arr.obj(i);
        const auto n = o.req_int("n");
        const auto type_word = o.req_str("type", 16);
        const auto watts = o.req_int("rated_power_w");
        if (!o.ok())
            break;
        const auto type = registry::parse_connector_type(type_word);
        if (!type)
            fail(ErrorCode::InvalidConnector,
                 fmt::format("connectors[{}].type `{}` is not gbt_dc, gbt_ac, ccs2 or type2", i, type_word));
        // Gun numbers far out of range stay out of range as an int.
        out.push_back(registry::Connector{static_cast<int>(std::clamp<std::int64_t>(n, -1, 1000)), *type, watts});
    }
    return out;
}

/// A registration's ports: `sockets`, or for a charger `guns` (the same count under its D.1 name),
/// and a charger's connectors (registry::connectors_problem: `invalid_connector`).
void set_ports(registry::Device& dev, std::optional<std::int64_t> sockets, std::optional<std::int64_t> guns,
               std::vector<registry::Connector> connectors) {
    const bool charger = dev.kind == registry::DeviceKind::EvCharger;
    if (guns && !charger)
        fail(ErrorCode::InvalidRequest, "guns is for ev_charger devices; give sockets");
    if (!connectors.empty() && !charger)
        fail(ErrorCode::InvalidRequest, "connectors are for ev_charger devices");
    if (!sockets && !guns)
        fail(ErrorCode::InvalidRequest, charger ? "guns is required" : "sockets is required");
    if (sockets && guns && *sockets != *guns)
        fail(ErrorCode::InvalidRequest, "sockets and guns name the same count; give one");
    dev.ports = static_cast<int>(guns.value_or(sockets.value_or(0)));
    if (dev.ports > registry::max_ports(dev.kind))
        fail(ErrorCode::InvalidRequest,
             fmt::format("a {} has 1..{} ports", registry::to_string(dev.kind), registry::max_ports(dev.kind)));
    if (const auto why = registry::connectors_problem(connectors, dev.ports))
        fail(ErrorCode::InvalidConnector, *why);
    dev.connectors = std::move(connectors);
}

/// `guns: [{n, code, enabled, connector_type, current_type, rated_power_w[, ocpp_status]}]`; with
/// `with_status`, each gun's OCPP status: its last `conn/{n}/state` st in `live`, null before it reported one.
void write_guns(json::Writer& w, const std::string& device_id, const std::vector<GunRow>& guns, bool with_status,
                const DeviceLive* live) {
    w.key("guns").begin_array();
    for (const auto& g : guns) {
        w.begin_object().field("n", g.n).field("code", sockets::socket_code({device_id, g.n}));
        w.field("enabled", g.enabled).nullable_field("connector_type", g.connector_type);
        w.field("current_type", g.current_type).field("rated_power_w", g.rated_power_w);
        if (with_status) {
            const auto p = live ? live->ports.find(g.n) : std::map<int, PortLive>::const_iterator{};
            const bool known = live && p != live->ports.end() && !p->second.st.empty();
            w.nullable_field("ocpp_status", known ? std::optional(p->second.st) : std::nullopt);
        }
        w.end_object();
    }
    w.end_array();
}

/// The secrets just issued to a device: `mqtt_username, mqtt_password` for an MQTT device, or an
/// OCPP charger's `ocpp_url, ocpps_url, ocpp_password` (it never speaks MQTT itself).
void write_issued(json::Writer& w, const Services& s, const std::string& device_id,
                  const registry::IssuedSecrets& issued) {
    if (!issued.ocpp_password.empty()) {
        w.field("ocpp_url", s.settings.ocpp.url(device_id))
            .nullable_field("ocpps_url", s.settings.ocpp.tls_url(device_id));
        w.field("ocpp_password", issued.ocpp_password);
    } else {
        w.field("mqtt_username", device_id).field("mqtt_password", issued.mqtt_password);
    }
}

/// What identifies a device in the field (seed 003 相机管理, seed 004 设备管理): the factory's serial,
/// the SIM's ICCID and the IP address, each optional; "" clears one.
struct Identity {
    std::optional<std::string> factory_id, sim, ip;
};

Identity read_identity(json::Object& b) {
    Identity id;
    id.factory_id = b.opt_str("factory_id", 64);
    id.sim = b.opt_str("sim", 32);
    id.ip = b.opt_str("ip", 45);
    return id;
}

/// Checks an identity (after check_body) and applies it to `d`.
void apply_identity(const Identity& id, DeviceRow& d) {
    auto set = [](const std::optional<std::string>& v, std::optional<std::string>& out) {
        if (v)
            out = v->empty() ? std::nullopt : v;
    };
    if (id.sim && !id.sim->empty() &&
        !std::all_of(id.sim->begin(), id.sim->end(), [](unsigned char c) { return std::isalnum(c) != 0; }))
        fail(ErrorCode::InvalidRequest, "sim must be the SIM card's ICCID: letters and digits, at most 32");
    if (id.ip && !id.ip->empty()) {
        unsigned char buf[sizeof(in6_addr)];
        if (::inet_pton(AF_INET, id.ip->c_str(), buf) != 1 && ::inet_pton(AF_INET6, id.ip->c_str(), buf) != 1)
            fail(ErrorCode::InvalidRequest, "ip must be an IPv4 or IPv6 address");
    }
    if (id.factory_id && !id.factory_id->empty() &&
        std::any_of(id.factory_id->begin(), id.factory_id->end(), [](unsigned char c) { return c < 0x20; }))
        fail(ErrorCode::InvalidRequest, "factory_id must not hold control characters");
    set(id.factory_id, d.factory_id);
    set(id.sim, d.sim);
    set(id.ip, d.ip);
}

std::string qr_text(const Services& s, const std::string& code) {
    return s.settings.qr_base_url + code;
}

/// A device's sockets with their state for operators: rider's word, what the device reports, the
/// session and its latest power and energy (telemetry as recorderd stored it); a charger also its
/// guns. `tele` may be null (no telemetry database).
void write_live_ports(json::Writer& w, CatalogStore& cat, const DeviceRow& dev, SocketStates& states,
                      const std::optional<DeviceLive>& live, db::Database* tele) {
    w.key("sockets").begin_array();
    for (const auto& p : cat.ports(dev.id)) {
        w.begin_object().field("n", p.n).field("code", sockets::socket_code({dev.id, p.n})).field("enabled", p.enabled);
        w.opt_field("socket_overload_w", p.socket_overload_w);
        if (dev.kind != "camera")
            w.field("state", states.state(dev.id, p.n, p.enabled && dev.visible));
        if (live) {
            if (auto it = live->ports.find(p.n); it != live->ports.end()) {
                w.field("reported_state", it->second.st).field("sid", it->second.sid);
                const auto sample =
                    tele && !it->second.sid.empty() ? latest_session_sample(*tele, it->second.sid) : std::nullopt;
                if (sample)
                    w.field("power_w", sample->power_w).field("session_energy_wh", sample->energy_wh);
            }
        }
        w.end_object();
    }
    w.end_array();
    if (dev.kind == "ev_charger")
        write_guns(w, dev.id, cat.guns(dev.id), true, live ? &*live : nullptr);
}

/// write_guns (`with_status`: each gun's ocpp_status too).
std::string guns_schema(bool with_status) {
    using namespace oas;
    Members gun{{"n", kInt},
                {"code", kStr},
                {"enabled", kBool},
                {"connector_type", kStrN},
                {"current_type", kStr},
                {"rated_power_w", kInt}};
    if (with_status)
        gun.push_back({"ocpp_status", kStrN});
    return arr(obj(gun));
}

/// write_live_ports' `sockets`.
std::string live_sockets_schema() {
    using namespace oas;
    return arr(obj({{"n", kInt},
                    {"code", kStr},
                    {"enabled", kBool},
                    {"?socket_overload_w", kInt},
                    {"?state", words_of({"free", "busy", "faulted", "offline", "unavailable"})},
                    {"?reported_state", kStr},
                    {"?sid", kStr},
                    {"?power_w", kInt},
                    {"?session_energy_wh", kInt}}));
}

/// write_config's members.
oas::Members config_members() {
    using namespace oas;
    return {{"desired", kAnyObjN}, {"reported", kAnyObjN}, {"in_sync", kBool}};
}

std::string device_detail_schema() {
    using namespace oas;
    const auto presence = obj({{"online", kBool},
                               {"?boot", kInt},
                               {"?since", kTime},
                               {"?last_seen", kTime},
                               {"?reason", kStr},
                               {"?fw", kStr}});
    const auto telemetry =
        obj_n({{"at", kTime}, {"data", obj({{"?temp_c", kNum}, {"?total_power_w", kInt}, {"?rssi_dbm", kInt}})}});
    const auto fault = obj({{"n", kInt}, {"code", kStr}, {"bit", kIntN}, {"opened_at", kTime}});
    return obj(device_members() + Members{{"presence", presence},
                                          {"sockets", live_sockets_schema()},
                                          {"?guns", guns_schema(true)},
                                          {"telemetry", telemetry},
                                          {"state", kAnyObjN},
                                          {"open_faults", arr(fault)}});
}

} // namespace

void add_admin_device_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Get, "/api/v1/admin/devices", "admin.devices.list", "admin-devices",
                      "Devices in scope with presence")
              .admin("devices.read")
              .q(integer("station_id", false, 1, INT64_MAX, "Only this station's."))
              .q(str_enum("kind", false, {"ebike_pile", "ev_charger", "camera"}, "Only this kind."))
              .q(str_enum("lifecycle", false, {"stock", "installed", "retired"},
                          "Only devices in stock (no station: unscoped operators only), installed or retired."))
              .q(str("model", false, 64, "Only devices of this model (its name)."))
              .q(integer("model_id", false, 1, INT64_MAX, "Only devices of this device model."))
              .q(boolean("ports", false,
                         "Also each device's sockets (and a charger's guns) with their live state, session and power, "
                         "as GET /admin/devices/{id} gives them, and its reported firmware (fw): one request for a "
                         "whole grid."))
              .returns(oas::list_of("devices",
                                    oas::obj(oas::device_members() + oas::Members{{"online", oas::kBool},
                                                                                  {"?sockets", live_sockets_schema()},
                                                                                  {"?guns", guns_schema(true)},
                                                                                  {"?fw", oas::kStr}})))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  json::Writer w;
                  w.begin_object().key("devices").begin_array();
                  const DeviceFilter filter{scope_of(req.who),
                                            req.query_int("station_id"),
                                            req.query("kind").value_or(""),
                                            req.query("lifecycle").value_or(""),
                                            req.query_int("model_id"),
                                            req.query("model").value_or("")};
                  const auto devices = cat.devices(filter);
                  const bool with_ports = req.query_bool("ports").value_or(false);
                  std::vector<std::int64_t> stations;
                  for (const auto& dev : devices)
                      if (dev.station_id)
                          stations.push_back(*dev.station_id);
                  std::sort(stations.begin(), stations.end());
                  stations.erase(std::unique(stations.begin(), stations.end()), stations.end());
                  std::optional<SocketStates> states;
                  std::optional<DbPool::Lease> tele;
                  if (with_ports) {
                      states.emplace(s, cat, stations);
                      if (s.telemetry)
                          tele.emplace(s.telemetry->get());
                  }
                  for (const auto& dev : devices) {
                      w.begin_object();
                      write_device(w, s, dev);
                      w.field("online", device_online(s, cat, dev.id));
                      if (with_ports) {
                          std::optional<DeviceLive> live;
                          if (s.devices)
                              live = s.devices->device(dev.id);
                          write_live_ports(w, cat, dev, *states, live, tele ? &**tele : nullptr);
                          if (live && !live->fw.empty())
                              w.field("fw", live->fw);
                      }
                      w.end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/devices", "admin.devices.create", "admin-devices",
                      "Register a device: returns its MQTT credentials, or an OCPP charger's URL and key (shown once); "
                      "the broker accepts them without a restart. Without station_id the device goes into stock "
                      "(unscoped operators only); with model_id the model fills its ports and their defaults")
              .admin("devices.write")
              .field(str("id", true, 48, "Device id [A-Za-z0-9_-]{1,48}: MQTT username and client id."))
              .field(str_enum("kind", true, {"ebike_pile", "ev_charger", "camera"}, "Device kind."))
              .field(integer("station_id", false, 1, INT64_MAX,
                             "The station it is installed at; absent: registered into stock (CONTRACT G)."))
              .field(integer("model_id", false, 1, INT64_MAX,
                             "A device model of this kind: its port count (sockets/guns may be left out), a charger's "
                             "guns' connector and power, a pile's socket_overload_w and device_overload_w."))
              .field(str("produced_on", false, 10, "The production date, YYYY-MM-DD."))
              .field(integer("sockets", false, 1, 64,
                             "Ports: sockets (e-bike pile, 1..64), guns (EV charger, 1..16) or spaces (camera, 1..16). "
                             "Give this or guns."))
              .field(integer("guns", false, 1, 16,
                             "EV chargers: the number of guns (CONTRACT D.1; sockets is a synonym)."))
              .field(array("connectors", false,
                           "EV chargers: guns' connectors [{n, type: gbt_dc|gbt_ac|ccs2|type2, rated_power_w}] "
                           "(AC 1000..44000 W, DC 1000..1000000 W; invalid_connector otherwise). Guns not listed "
                           "keep 7000 W AC with no connector type."))
              .field(integer("area_id", false, 1, INT64_MAX, "An area of the station."))
              .field(str("name", false, 100, "Name."))
              .field(str("model", false, 64, "Model."))
              .field(str("factory_id", false, 64, "The maker's serial number (出厂编号)."))
              .field(str("sim", false, 32, "The SIM card's ICCID, letters and digits."))
              .field(str("ip", false, 45, "The device's IP address (IPv4 or IPv6), e.g. a camera's."))
              .field(str_enum("protocol", false, {"mqtt", "ocpp1.6"},
                              "How the device reaches the platform: mqtt (default) or ocpp1.6 (EV chargers only: an "
                              "OCPP 1.6-J charge point behind the gateway, CONTRACT D.2)."))
              .ok(201)
              .answers("{id, kind, protocol, station_id (null in stock), lifecycle, model_id, sockets, guns (EV "
                       "chargers), broker_reloaded} and, for mqtt, "
                       "{mqtt_username, mqtt_password}; for ocpp1.6 instead {ocpp_url, ocpps_url, ocpp_password}: the "
                       "charge point's ws:// and wss:// URLs (<ocpp.public_url>/<id>, <ocpp.public_tls_url>/<id>, null "
                       "without a TLS listener) "
                       "and its HTTP Basic password (user = id). Secrets are shown once.")
              .refuses({ErrorCode::NotFound, ErrorCode::Duplicate, ErrorCode::InvalidConnector, ErrorCode::Forbidden})
              .returns(oas::obj({{"id", oas::kStr},
                                 {"kind", oas::device_kind_words()},
                                 {"protocol", oas::protocol_words()},
                                 {"station_id", oas::kIntN},
                                 {"lifecycle", oas::words_of({"stock", "installed"})},
                                 {"model_id", oas::kIntN},
                                 {"sockets", oas::kInt},
                                 {"?guns", guns_schema(false)},
                                 {"?mqtt_username", oas::kStr},
                                 {"?mqtt_password", oas::kStr},
                                 {"?ocpp_url", oas::kStr},
                                 {"?ocpps_url", oas::kStrN},
                                 {"?ocpp_password", oas::kStr},
                                 {"broker_reloaded", oas::kBool}}))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  registry::Device dev;
                  dev.id = b.req_str("id", 48);
                  const auto kind = registry::parse_kind(b.req_str("kind", 16));
                  dev.station_id = b.opt_int("station_id", 1, INT64_MAX);
                  const auto model_id = b.opt_int("model_id", 1, INT64_MAX);
                  const auto produced_on = b.opt_str("produced_on", 10);
                  auto sockets = b.opt_int("sockets", 1, 64);
                  auto guns = b.opt_int("guns", 1, 16);
                  auto connectors = read_connectors(b);
                  const auto area = b.opt_int("area_id", 1, INT64_MAX);
                  dev.name = b.opt_str("name", 100).value_or("");
                  const auto model_name = b.opt_str("model", 64).value_or("");
                  const auto identity = read_identity(b);
                  const auto protocol = registry::parse_protocol(b.opt_str("protocol", 16).value_or("mqtt"));
                  req.check_body();
                  DeviceRow checked;
                  apply_identity(identity, checked);
                  if (!topics::valid_device_id(dev.id))
                      fail(ErrorCode::InvalidRequest, "id must be [A-Za-z0-9_-]{1,48}");
                  if (produced_on && !valid_date(*produced_on))
                      fail(ErrorCode::InvalidRequest, "produced_on must be a date YYYY-MM-DD");
                  dev.kind = *kind;
                  dev.protocol = *protocol;
                  if (const auto why = registry::protocol_problem(dev.kind, dev.protocol))
                      fail(ErrorCode::InvalidRequest, *why);
                  if (!dev.station_id) {
                      // Stock belongs to no station: only an operator who sees every station sees it.
                      require_unscoped(req.who, "registering a device into stock");
                      if (area)
                          fail(ErrorCode::InvalidRequest, "area_id needs a station_id");
                  }
                  auto d = s.core->get();
                  std::optional<DeviceModelRow> model;
                  if (model_id)
                      model = apply_model(*d, *model_id, dev, sockets, guns, connectors);
                  set_ports(dev, sockets, guns, std::move(connectors));
                  CatalogStore cat(*d);
                  if (dev.station_id) {
                      if (!cat.station(*dev.station_id) || !req.who.sees_station(*dev.station_id))
                          fail(ErrorCode::NotFound, "no such station");
                  }
                  if (area) {
                      auto a = cat.area(*area);
                      if (!a || a->station_id != dev.station_id)
                          fail(ErrorCode::NotFound, "no such area in this station");
                  }
                  registry::Store reg(*d);
                  if (reg.device(dev.id))
                      fail(ErrorCode::Duplicate, "a device with this id exists");
                  const auto issued = registry::register_device(reg, dev, s.settings.data_dir, s.now());
                  if (area || !model_name.empty() || checked.factory_id || checked.sim || checked.ip || model ||
                      produced_on) {
                      auto row = cat.device(dev.id);
                      row->area_id = area;
                      row->model = model_name.empty() && model ? model->name : model_name;
                      row->model_id = model_id;
                      row->produced_on = produced_on;
                      apply_identity(identity, *row);
                      cat.update_device(*row);
                  }
                  if (model && model->kind == "ebike_pile" && model->socket_overload_w)
                      for (const auto& p : cat.ports(dev.id))
                          cat.set_port(dev.id, model->kind, p.n, p.enabled, model->socket_overload_w);
                  const bool reloaded = sync_broker_users(s, *d, dev.id);
                  if ((dev.kind == registry::DeviceKind::EbikePile || dev.kind == registry::DeviceKind::EvCharger) &&
                      s.publish) {
                      // The device finds its full configuration retained when it first connects.
                      const auto defaults = model ? model_config(*model) : std::nullopt;
                      const auto [version, text] = save_next_desired(s, *d, dev.id, defaults ? &*defaults : nullptr,
                                                                     registry::to_string(dev.kind));
                      s.publish(mqtt::Message{topics::cfg_desired(dev.id), text, 1, true});
                  }
                  json::Writer w;
                  w.begin_object()
                      .field("id", dev.id)
                      .field("kind", registry::to_string(dev.kind))
                      .field("protocol", registry::to_string(dev.protocol))
                      .nullable_field("station_id", dev.station_id)
                      .field("lifecycle", dev.station_id ? "installed" : "stock")
                      .nullable_field("model_id", model_id);
                  w.field("sockets", dev.ports);
                  if (dev.kind == registry::DeviceKind::EvCharger)
                      write_guns(w, dev.id, cat.guns(dev.id), false, nullptr);
                  write_issued(w, s, dev.id, issued);
                  w.field("broker_reloaded", reloaded).end_object();
                  return Response::json(w.str(), 201);
              }));

    r.add(
        Route::make(Method::Get, "/api/v1/admin/devices/{id}", "admin.devices.get", "admin-devices",
                    "A device: presence, sockets with their state (a charger also its guns with connector, rating and "
                    "OCPP status), last stored telemetry, open faults")
            .admin("devices.read")
            .param(key_param("id", "Device id."))
            .refuses({ErrorCode::UnknownDevice})
            .returns(device_detail_schema())
            .handle([&s](Request& req) {
                auto d = s.core->get();
                CatalogStore cat(*d);
                const auto dev = device_in_scope(cat, req.who, req.param("id"));
                std::optional<DeviceLive> live;
                if (s.devices)
                    live = s.devices->device(dev.id);
                json::Writer w;
                w.begin_object();
                write_device(w, s, dev);
                w.key("presence").begin_object().field("online", device_online(s, cat, dev.id));
                {
                    if (const auto p = MonitorStore(*d).presence(dev.id)) {
                        w.field("boot", p->boot)
                            .field("since", when(s, p->since))
                            .field("last_seen", when(s, p->last_seen));
                        w.field("reason", p->reason);
                    } else if (live) {
                        w.field("boot", live->boot);
                        if (live->presence_at)
                            w.field("since", when(s, live->presence_at));
                    }
                    if (live && !live->fw.empty())
                        w.field("fw", live->fw);
                }
                w.end_object();
                // Telemetry as recorderd stored it (the API reads no raw telemetry).
                std::optional<DbPool::Lease> tele;
                if (s.telemetry)
                    tele.emplace(s.telemetry->get());
                SocketStates states(
                    s, cat, dev.station_id ? std::vector<std::int64_t>{*dev.station_id} : std::vector<std::int64_t>{});
                write_live_ports(w, cat, dev, states, live, tele ? &**tele : nullptr);
                w.key("telemetry");
                if (const auto sample = tele ? latest_device_sample(**tele, dev.id) : std::nullopt) {
                    w.begin_object().field("at", when(s, sample->t)).key("data").begin_object();
                    if (sample->temp_dc)
                        w.field("temp_c", static_cast<double>(*sample->temp_dc) / 10.0);
                    w.opt_field("total_power_w", sample->total_power_w).opt_field("rssi_dbm", sample->rssi_dbm);
                    w.end_object().end_object();
                } else {
                    w.null();
                }
                w.key("state");
                if (auto doc = json::parse(live ? live->state_json : "{}"); doc)
                    w.raw_value(*doc);
                else
                    w.null();
                w.key("open_faults").begin_array();
                for (const auto& f : MonitorStore(*d).open_faults(dev.id)) {
                    w.begin_object().field("n", f.n).field("code", f.code);
                    w.key("bit");
                    if (f.bit)
                        w.value(*f.bit);
                    else
                        w.null();
                    w.field("opened_at", when(s, f.opened_at)).end_object();
                }
                w.end_array().end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Put, "/api/v1/admin/devices/{id}", "admin.devices.update", "admin-devices",
                      "Rename, move to an area, enable or disable a device (a disabled device disappears from riders); "
                      "with station_id install a device in stock there, or relocate an installed one (409 while a "
                      "session is live on it; sessions keep the station they ran at)")
              .admin("devices.write")
              .param(key_param("id", "Device id."))
              .field(str("name", false, 100, "Name."))
              .field(str("model", false, 64, "Model."))
              .field(integer("station_id", false, 1, INT64_MAX,
                             "Install (stock → installed) or relocate to this station; area_id then names an area "
                             "of it (none if absent)."))
              .field(str("produced_on", false, 10, "The production date, YYYY-MM-DD; \"\" clears it."))
              .field(integer("area_id", false, 0, INT64_MAX, "Area of its station; 0 = none."))
              .field(boolean("enabled", false, "Enabled."))
              .field(str("factory_id", false, 64, "The maker's serial number; \"\" clears it."))
              .field(str("sim", false, 32, "The SIM card's ICCID; \"\" clears it."))
              .field(str("ip", false, 45, "The device's IP address; \"\" clears it."))
              .refuses({ErrorCode::UnknownDevice, ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(oas::obj(oas::device_members()))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto dev = device_in_scope(cat, req.who, req.param("id"));
                  auto b = req.body();
                  dev.name = b.opt_str("name", 100).value_or(dev.name);
                  dev.model = b.opt_str("model", 64).value_or(dev.model);
                  const auto station = b.opt_int("station_id", 1, INT64_MAX);
                  const auto produced_on = b.opt_str("produced_on", 10);
                  const auto area = b.opt_int("area_id", 0, INT64_MAX);
                  dev.enabled = b.opt_bool("enabled").value_or(dev.enabled);
                  const auto identity = read_identity(b);
                  req.check_body();
                  apply_identity(identity, dev);
                  if (produced_on && !produced_on->empty() && !valid_date(*produced_on))
                      fail(ErrorCode::InvalidRequest, "produced_on must be a date YYYY-MM-DD");
                  if (produced_on)
                      dev.produced_on = produced_on->empty() ? std::nullopt : produced_on;
                  if (station) {
                      // Install or relocate (with the live-session check in one transaction).
                      const Placement to{*station, area && *area > 0 ? area : std::nullopt};
                      if (const auto refusal = place_device(*d, req.who, dev, to, s.now()))
                          fail(refusal->code, refusal->why);
                  } else if (area) {
                      if (*area == 0) {
                          dev.area_id.reset();
                      } else {
                          auto a = cat.area(*area);
                          if (!a || a->station_id != dev.station_id)
                              fail(ErrorCode::NotFound, "no such area in this device's station");
                          dev.area_id = *area;
                      }
                  }
                  if (!station)
                      cat.update_device(dev);
                  json::Writer w;
                  w.begin_object();
                  write_device(w, s, *cat.device(dev.id));
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(
        Route::make(Method::Put, "/api/v1/admin/devices/{id}/ports/{n}", "admin.ports.update", "admin-devices",
                    "Enable or disable one socket / gun / space (a disabled socket disappears from riders)")
            .admin("devices.write")
            .param(key_param("id", "Device id."))
            .param(id_param("n", "Socket, gun or space number."))
            .field(boolean("enabled", false, "Enabled."))
            .field(integer("socket_overload_w", false, 0, 10000, "Sockets: overload threshold override, W (0 = none)."))
            .refuses({ErrorCode::UnknownDevice, ErrorCode::UnknownSocket})
            .returns(oas::obj({{"device_id", oas::kStr},
                               {"n", oas::kInt},
                               {"enabled", oas::kBool},
                               {"?socket_overload_w", oas::kInt}}))
            .handle([&s](Request& req) {
                auto d = s.core->get();
                CatalogStore cat(*d);
                const auto dev = device_in_scope(cat, req.who, req.param("id"));
                const auto n = static_cast<int>(std::min<std::int64_t>(req.param_int("n"), 999));
                auto p = cat.port(dev.id, n);
                if (!p)
                    fail(ErrorCode::UnknownSocket, "no such socket");
                auto b = req.body();
                const auto enabled = b.opt_bool("enabled").value_or(p->enabled);
                auto overload = b.opt_int("socket_overload_w", 0, 10000);
                req.check_body();
                std::optional<std::int64_t> ov = p->socket_overload_w;
                if (overload)
                    ov = *overload == 0 ? std::nullopt : overload;
                cat.set_port(dev.id, dev.kind, n, enabled, ov);
                json::Writer w;
                w.begin_object().field("device_id", dev.id).field("n", n).field("enabled", enabled);
                w.opt_field("socket_overload_w", ov);
                w.end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Post, "/api/v1/admin/devices/{id}/credentials", "admin.devices.rotate", "admin-devices",
                      "Issue a new secret, the old one refused at once: a device's MQTT password, or an OCPP charger's "
                      "key (for new connections; its MQTT identity at the gateway stays)")
              .admin("devices.write")
              .param(key_param("id", "Device id."))
              .answers("{mqtt_username, mqtt_password, broker_reloaded}; for an ocpp1.6 charger {ocpp_url, ocpps_url, "
                       "ocpp_password}. Shown once.")
              .refuses({ErrorCode::UnknownDevice})
              .returns(oas::obj({{"?mqtt_username", oas::kStr},
                                 {"?mqtt_password", oas::kStr},
                                 {"?broker_reloaded", oas::kBool},
                                 {"?ocpp_url", oas::kStr},
                                 {"?ocpps_url", oas::kStrN},
                                 {"?ocpp_password", oas::kStr}}))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto dev = device_in_scope(cat, req.who, req.param("id"));
                  registry::Store reg(*d);
                  const auto issued = registry::rotate_secret(reg, dev.id, s.now());
                  if (!issued)
                      fail(ErrorCode::UnknownDevice, "no such device");
                  json::Writer w;
                  w.begin_object();
                  write_issued(w, s, dev.id, *issued);
                  if (!issued->mqtt_password.empty()) {
                      // The gateway checks an OCPP key in the database; only MQTT secrets are the broker's.
                      w.field("broker_reloaded", sync_broker_users(s, *d, dev.id));
                  }
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Delete, "/api/v1/admin/devices/{id}", "admin.devices.delete", "admin-devices",
                      "Remove a device that never charged (others: disable them)")
              .admin("devices.write")
              .param(key_param("id", "Device id."))
              .refuses({ErrorCode::UnknownDevice, ErrorCode::Conflict})
              .returns(oas::obj({{"id", oas::kStr}, {"removed", oas::kBool}, {"broker_reloaded", oas::kBool}}))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto dev = device_in_scope(cat, req.who, req.param("id"));
                  if (SessionStore(*d).device_has_sessions(dev.id))
                      fail(ErrorCode::Conflict, "the device has sessions; disable it instead");
                  registry::Store reg(*d);
                  reg.remove_device(dev.id);
                  const bool reloaded = sync_broker_users(s, *d, dev.id);
                  json::Writer w;
                  w.begin_object()
                      .field("id", dev.id)
                      .field("removed", true)
                      .field("broker_reloaded", reloaded)
                      .end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(
              Method::Post, "/api/v1/admin/devices/{id}/commands/{name}", "admin.devices.command", "admin-devices",
              "A remote command through sessiond, answered with the device's reply: e-bike piles query_port, "
              "query_device, reboot, set_time; EV chargers reset {type}, unlock {n}, set_availability {n, "
              "operative}, set_tariff {elec_e4, service_e4, text?}, set_time; cameras reboot, set_time (a space's lock "
              "and snapshot: POST /admin/spaces/{id}/lock and /snapshot; ota goes through rollouts: POST "
              "/admin/firmware/{id}/rollouts)")
              .admin("devices.command")
              .param(key_param("id", "Device id."))
              .param(key_param("name", "Command name."))
              .field(object("data", false, "The command's data (CONTRACT A.5)."))
              .refuses({ErrorCode::UnknownDevice, ErrorCode::DeviceOffline, ErrorCode::Unsupported, ErrorCode::Timeout,
                        ErrorCode::Expired})
              .returns(oas::obj({{"status", oas::kStr}, {"reply", oas::kAnyObjN}}))
              .handle([&s](Request& req) {
                  static const std::map<std::string, std::set<std::string>> kAllowed{
                      {"ebike_pile", {"query_port", "query_device", "reboot", "set_time", "ota"}},
                      {"ev_charger", {"reset", "unlock", "set_availability", "set_time", "ota", "set_tariff"}},
                      {"camera", {"reboot", "set_time"}}}; // its lock and snapshot: /admin/spaces/{id}/…
                  std::string kind;
                  {
                      auto d = s.core->get();
                      CatalogStore cat(*d);
                      kind = device_in_scope(cat, req.who, req.param("id")).kind;
                  }
                  const auto& name = req.param("name");
                  auto allowed = kAllowed.find(kind);
                  if (allowed == kAllowed.end() || !allowed->second.count(name))
                      fail(ErrorCode::Unsupported, fmt::format("a {} has no remote command {}", kind, name));
                  if (name == "ota")
                      fail(ErrorCode::Unsupported, "firmware goes to devices through rollouts: POST "
                                                   "/api/v1/admin/firmware/{id}/rollouts {device_ids: [...]}");
                  const auto command = svc::parse_device_command_name(name);
                  if (!command)
                      fail(ErrorCode::Unsupported, fmt::format("sessiond does not relay the command {} yet", name));
                  static const rapidjson::Value kNoData(rapidjson::kObjectType);
                  const auto* doc = req.document();
                  const auto it = doc->FindMember("data");
                  auto data = svc::decode_device_command(*command, it != doc->MemberEnd() ? it->value : kNoData);
                  if (!data)
                      fail(ErrorCode::InvalidRequest, data.error());
                  const svc::DeviceCommandRequest request{req.param("id"), std::move(data).value(), req.who.name};
                  const auto reply = call_sessiond(s, request, s.settings.command_timeout_ms);
                  auto answer = svc::decode_device_command_reply(*command, reply.data_json);
                  if (!answer)
                      fail_bad_reply(fmt::format("{} reply", name), answer.error());
                  json::Writer out;
                  out.begin_object().field("status", reply.status).key("reply");
                  if (auto r2 = json::parse(svc::encode(answer.value())); r2)
                      out.raw_value(*r2);
                  else
                      out.null();
                  out.end_object();
                  return Response::json(out.str());
              }));

    r.add(
        Route::make(Method::Put, "/api/v1/admin/devices/{id}/config", "admin.devices.config.put", "admin-devices",
                    "Change configuration keys (an e-bike pile's or an EV charger's, by its kind): publishes the full "
                    "cfg/desired document (retained) with a new version")
            .admin("devices.config")
            .param(key_param("id", "Device id."))
            .field(integer("full_stop_w", false, 0, 255, "E-bike pile: below this power a battery is full, W."))
            .field(integer("full_wait_s", false, 0, 86400, "E-bike pile: how long below full_stop_w before stopping."))
            .field(integer("no_load_wait_s", false, 0, 3600, "E-bike pile: no load detection window after start."))
            .field(integer("socket_overload_w", false, 1, 10000, "E-bike pile: socket overload threshold, W."))
            .field(integer("device_overload_w", false, 1, 200000, "E-bike pile: device overload threshold, W."))
            .field(array("socket_overrides", false,
                         "E-bike pile: per-socket overrides [{n, socket_overload_w?, full_stop_w?}]."))
            .field(integer("ev_full_wait_s", false, 0, 86400,
                           "EV charger: a gun suspended_ev this long is full (default 180)."))
            .field(integer("ev_no_load_wait_s", false, 0, 3600,
                           "EV charger: no energy this long after the start is no_load (default 90)."))
            .field(integer("temp_warn_c", false, 0, 150, "Temperature warning, °C."))
            .field(integer("temp_stop_c", false, 0, 150, "Temperature stop, °C."))
            .field(integer("tele_period_s", false, 5, 3600, "Telemetry period while charging."))
            .field(integer("idle_tele_period_s", false, 5, 86400, "Telemetry period while idle."))
            .refuses({ErrorCode::UnknownDevice, ErrorCode::Unsupported})
            .returns(
                oas::obj(oas::Members{{"device_id", oas::kStr}, {"version", oas::kInt}, {"published", oas::kBool}} +
                         config_members()))
            .handle([&s](Request& req) {
                auto d = s.core->get();
                CatalogStore cat(*d);
                const auto dev = device_in_scope(cat, req.who, req.param("id"));
                if (dev.kind != "ebike_pile" && dev.kind != "ev_charger")
                    fail(ErrorCode::Unsupported, "configuration documents exist for e-bike piles and EV chargers only");
                // Save and publish under one lock, so the retained document is always the latest
                // version even when two changes race.
                static std::mutex publish_order;
                std::lock_guard order(publish_order);
                const auto [version, message] = save_next_desired(s, *d, dev.id, req.document(), dev.kind);
                const bool published =
                    s.publish && s.publish(mqtt::Message{topics::cfg_desired(dev.id), message, 1, true});
                if (!published)
                    log::warn(log::Ctx{dev.id, {}}, "cfg/desired v{} saved but not published", version);
                json::Writer w;
                w.begin_object().field("device_id", dev.id).field("version", version).field("published", published);
                write_config(w, s, *d, dev.id);
                w.end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Get, "/api/v1/admin/devices/{id}/config", "admin.devices.config.get", "admin-devices",
                      "The desired configuration and the one the device reported")
              .admin("devices.read")
              .param(key_param("id", "Device id."))
              .refuses({ErrorCode::UnknownDevice})
              .returns(oas::obj(oas::Members{{"device_id", oas::kStr}} + config_members()))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto dev = device_in_scope(cat, req.who, req.param("id"));
                  json::Writer w;
                  w.begin_object().field("device_id", dev.id);
                  write_config(w, s, *d, dev.id);
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/sockets/{code}/qr", "admin.sockets.qr", "admin-devices",
                      "The QR code of one socket as PNG or SVG")
              .admin("devices.read")
              .param(key_param("code", "Socket code <device_id>-<n>."))
              .q(str_enum("format", false, {"png", "svg"}, "png (default) or svg."))
              .q(integer("scale", false, 1, 32, "Pixels per module (default 8)."))
              .produce("image/png")
              .refuses({ErrorCode::UnknownSocket})
              .handle([&s](Request& req) {
                  const auto code = req.param("code");
                  auto parsed = sockets::parse_socket_code(code);
                  if (!parsed)
                      fail(ErrorCode::UnknownSocket, "no such socket");
                  {
                      auto d = s.core->get();
                      CatalogStore cat(*d);
                      auto dev = cat.device(parsed->device_id);
                      if (!dev || !sees_device(req.who, *dev) || !cat.port(dev->id, parsed->n))
                          fail(ErrorCode::UnknownSocket, "no such socket");
                  }
                  auto m = qr::encode(qr_text(s, code));
                  if (!m)
                      fail(ErrorCode::Internal, "the QR code could not be made");
                  const int scale = static_cast<int>(req.query_int("scale").value_or(8));
                  if (req.query("format").value_or("png") == "svg")
                      return Response::file(qr::svg(*m, scale, code), "image/svg+xml", code + ".svg");
                  return Response::file(qr::png(*m, scale), "image/png", code + ".png");
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/qr-sheet", "admin.qr_sheet", "admin-devices",
                      "One printable SVG sheet with the QR codes of every socket of a device or a station")
              .admin("devices.read")
              .q(str("device_id", false, 48, "A device's sockets."))
              .q(integer("station_id", false, 1, INT64_MAX, "Or every socket of a station."))
              .q(integer("columns", false, 1, 20, "Codes per row (default 5)."))
              .produce("image/svg+xml")
              .refuses({ErrorCode::UnknownDevice, ErrorCode::NotFound})
              .handle([&s](Request& req) {
                  const auto device = req.query("device_id");
                  const auto station = req.query_int("station_id");
                  if (device.has_value() == station.has_value())
                      fail(ErrorCode::InvalidRequest, "give exactly one of device_id and station_id");
                  std::vector<std::string> codes;
                  {
                      auto d = s.core->get();
                      CatalogStore cat(*d);
                      std::vector<DeviceRow> devs;
                      if (device) {
                          devs.push_back(device_in_scope(cat, req.who, *device));
                      } else {
                          if (!cat.station(*station))
                              fail(ErrorCode::NotFound, "no such station");
                          require_station(req.who, *station);
                          devs = cat.devices(std::nullopt, station, "");
                      }
                      for (const auto& dev : devs)
                          if (dev.kind != "camera")
                              for (const auto& p : cat.ports(dev.id))
                                  codes.push_back(sockets::socket_code({dev.id, p.n}));
                  }
                  if (codes.size() > 2000)
                      fail(ErrorCode::InvalidRequest, "too many sockets for one sheet; print per device");
                  std::vector<std::pair<qr::Matrix, std::string>> sheet;
                  for (const auto& c : codes)
                      if (auto m = qr::encode(qr_text(s, c)))
                          sheet.emplace_back(std::move(*m), c);
                  const int cols = static_cast<int>(req.query_int("columns").value_or(5));
                  return Response::file(qr::svg_sheet(sheet, cols, 4), "image/svg+xml", "qr-sheet.svg");
              }));
}

} // namespace pilehub::api
