// Device lifecycle (CONTRACT G "Lifecycle", seed 004 设备管理 and 设备类型): device models, retirement and bulk
// assignment of devices to a station. Install and relocation of one device: PUT /admin/devices/{id}
// (routes_admin_devices.cpp); the rules: common/device_lifecycle.hpp, web-api/device_placement.hpp.
#include "common/log.hpp"
#include "common/registry.hpp"
#include "web-api/device_model_store.hpp"
#include "web-api/device_placement.hpp"
#include "web-api/openapi_schemas.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

#include <set>

namespace pilehub::api {
namespace {

void write_model(json::Writer& w, const Services& s, const DeviceModelRow& m) {
    w.field("id", m.id).field("kind", m.kind).field("name", m.name).field("ports", m.ports);
    w.nullable_field("rated_power_w", m.rated_power_w)
        .nullable_field("rated_voltage_v", m.rated_voltage_v)
        .nullable_field("rated_current_a", m.rated_current_a)
        .nullable_field("socket_overload_w", m.socket_overload_w)
        .nullable_field("device_overload_w", m.device_overload_w)
        .nullable_field("gun_power_w", m.gun_power_w)
        .nullable_field("connector_type", m.connector_type)
        .nullable_field("max_current_a", m.max_current_a);
    w.field("note", m.note).field("created_at", when(s, m.created_at));
}

Response model_answer(const Services& s, const DeviceModelRow& m, int status) {
    json::Writer w;
    w.begin_object();
    write_model(w, s, m);
    w.end_object();
    return Response::json(w.str(), status);
}

/// The fields a model's body may carry (POST: kind, name and ports required; PUT: all optional).
std::vector<FieldSpec> model_fields(bool create) {
    return {str_enum("kind", create, {"ebike_pile", "ev_charger", "camera"}, "Device kind (not changed by PUT)."),
            str("name", create, 64, "Name, unique per kind."),
            integer("ports", create, 1, 64, "Sockets (e-bike pile, 1..64), guns or spaces (1..16)."),
            integer("rated_power_w", false, 1, 1'000'000, "The device's rated power, W."),
            integer("rated_voltage_v", false, 1, 2'000, "Rated voltage, V."),
            integer("rated_current_a", false, 1, 1'000, "Rated current, A."),
            integer("socket_overload_w", false, 1, 10'000, "E-bike piles: each socket's overload threshold, W."),
            integer("device_overload_w", false, 1, 200'000, "E-bike piles: the pile's overload threshold, W."),
            integer("gun_power_w", false, registry::kMinRatedPowerW, 1'000'000,
                    "EV chargers: each gun's rated power, W (with connector_type)."),
            str_enum("connector_type", false, {"gbt_dc", "gbt_ac", "ccs2", "type2"}, "EV chargers: each gun's."),
            integer("max_current_a", false, 1, 1'000, "Each socket's or gun's maximum current, A."),
            str("note", false, 200, "Free text.")};
}

/// Reads a model's body over `m` (absent fields keep their value) and checks it against its kind.
void read_model(Request& req, DeviceModelRow& m, bool create) {
    auto b = req.body();
    if (create)
        m.kind = b.req_str("kind", 16);
    else if (b.has("kind"))
        fail(ErrorCode::InvalidRequest, "a model's kind cannot change");
    m.name = create ? b.req_str("name", 64) : b.opt_str("name", 64).value_or(m.name);
    m.ports = static_cast<int>(create ? b.req_int("ports", 1, 64) : b.opt_int("ports", 1, 64).value_or(m.ports));
    auto opt = [&b](std::string_view key, std::int64_t min, std::int64_t max, std::optional<std::int64_t>& out) {
        if (b.has(key))
            out = b.opt_int(key, min, max);
    };
    opt("rated_power_w", 1, 1'000'000, m.rated_power_w);
    opt("rated_voltage_v", 1, 2'000, m.rated_voltage_v);
    opt("rated_current_a", 1, 1'000, m.rated_current_a);
    opt("socket_overload_w", 1, 10'000, m.socket_overload_w);
    opt("device_overload_w", 1, 200'000, m.device_overload_w);
    opt("gun_power_w", registry::kMinRatedPowerW, 1'000'000, m.gun_power_w);
    opt("max_current_a", 1, 1'000, m.max_current_a);
    if (b.has("connector_type"))
        m.connector_type = b.opt_str("connector_type", 16);
    m.note = b.opt_str("note", 200).value_or(m.note);
    req.check_body();
    const auto kind = registry::parse_kind(m.kind);
    if (!kind)
        fail(ErrorCode::InvalidRequest, "kind must be ebike_pile, ev_charger or camera");
    if (m.ports > registry::max_ports(*kind))
        fail(ErrorCode::InvalidRequest, fmt::format("a {} has 1..{} ports", m.kind, registry::max_ports(*kind)));
    const bool pile = *kind == registry::DeviceKind::EbikePile;
    const bool charger = *kind == registry::DeviceKind::EvCharger;
    if (!pile && (m.socket_overload_w || m.device_overload_w))
        fail(ErrorCode::InvalidRequest, "socket_overload_w and device_overload_w are for ebike_pile models");
    if (!charger && (m.gun_power_w || m.connector_type))
        fail(ErrorCode::InvalidRequest, "gun_power_w and connector_type are for ev_charger models");
    if (m.gun_power_w.has_value() != m.connector_type.has_value())
        fail(ErrorCode::InvalidConnector, "a model's guns need both connector_type and gun_power_w");
    if (m.connector_type) {
        const auto type = registry::parse_connector_type(*m.connector_type);
        const registry::Connector each{1, type.value_or(registry::ConnectorType::GbtAc), *m.gun_power_w};
        if (const auto why = registry::connectors_problem({each}, m.ports))
            fail(ErrorCode::InvalidConnector, *why);
    }
}

void refuse_taken_name(DeviceModelStore& models, const DeviceModelRow& m) {
    for (const auto& other : models.models(m.kind))
        if (other.name == m.name && other.id != m.id)
            fail(ErrorCode::Duplicate, fmt::format("a {} model named {} exists", m.kind, m.name));
}

} // namespace

void add_admin_lifecycle_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Get, "/api/v1/admin/device-models", "admin.device_models.list", "admin-devices",
                      "Device models (设备类型) with the per-socket / per-gun defaults they imply")
              .admin("devices.read")
              .q(str_enum("kind", false, {"ebike_pile", "ev_charger", "camera"}, "Only this kind."))
              .answers("{models: [{id, kind, name, ports, rated_power_w, rated_voltage_v, rated_current_a, "
                       "socket_overload_w, device_overload_w, gun_power_w, connector_type, max_current_a, note, "
                       "created_at}]}")
              .returns(schemas::list_of("models", schemas::ref("DeviceModel")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("models").begin_array();
                  for (const auto& m : DeviceModelStore(*d).models(req.query("kind").value_or(""))) {
                      w.begin_object();
                      write_model(w, s, m);
                      w.end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    auto create = Route::make(Method::Post, "/api/v1/admin/device-models", "admin.device_models.create",
                              "admin-devices", "Add a device model (unscoped operators)")
                      .admin("devices.write")
                      .ok(201)
                      .returns(schemas::ref("DeviceModel"))
                      .refuses({ErrorCode::Duplicate, ErrorCode::InvalidConnector, ErrorCode::Forbidden});
    for (auto& f : model_fields(true))
        create.field(std::move(f));
    create.handle([&s](Request& req) {
        require_unscoped(req.who, "a device model");
        DeviceModelRow m;
        read_model(req, m, true);
        auto d = s.core->get();
        DeviceModelStore models(*d);
        refuse_taken_name(models, m);
        const auto id = models.add(m, s.now());
        return model_answer(s, *models.model(id), 201);
    });
    r.add(std::move(create));

    auto update =
        Route::make(Method::Put, "/api/v1/admin/device-models/{id}", "admin.device_models.update", "admin-devices",
                    "Change a device model (its kind stays); devices already registered keep their ports "
                    "and settings")
            .admin("devices.write")
            .param(id_param("id", "Model id."))
            .returns(schemas::ref("DeviceModel"))
            .refuses({ErrorCode::NotFound, ErrorCode::Duplicate, ErrorCode::InvalidConnector, ErrorCode::Forbidden});
    for (auto& f : model_fields(false))
        update.field(std::move(f));
    update.handle([&s](Request& req) {
        require_unscoped(req.who, "a device model");
        auto d = s.core->get();
        DeviceModelStore models(*d);
        auto m = models.model(req.param_int("id"));
        if (!m)
            fail(ErrorCode::NotFound, "no such device model");
        read_model(req, *m, false);
        refuse_taken_name(models, *m);
        models.update(*m);
        return model_answer(s, *models.model(m->id), 200);
    });
    r.add(std::move(update));

    r.add(Route::make(Method::Delete, "/api/v1/admin/device-models/{id}", "admin.device_models.delete", "admin-devices",
                      "Remove a device model no device uses (409 while one does)")
              .admin("devices.write")
              .param(id_param("id", "Model id."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict, ErrorCode::Forbidden})
              .returns(schemas::object(R"("id":{"type":"integer","format":"int64"},"removed":{"type":"boolean"})",
                                       R"("id","removed")"))
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "a device model");
                  auto d = s.core->get();
                  DeviceModelStore models(*d);
                  const auto id = req.param_int("id");
                  if (!models.model(id))
                      fail(ErrorCode::NotFound, "no such device model");
                  if (const auto n = models.devices_using(id); n > 0)
                      fail(ErrorCode::Conflict, fmt::format("{} device(s) are registered with this model", n));
                  models.remove(id);
                  json::Writer w;
                  w.begin_object().field("id", id).field("removed", true).end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/devices/{id}/retire", "admin.devices.retire", "admin-devices",
                      "Retire a device for good (409 while a session is live on it): the broker refuses its "
                      "credentials from then on, riders no longer see it, its history stays")
              .admin("devices.write")
              .param(key_param("id", "Device id."))
              .answers("{id, lifecycle: retired, retired_at, broker_reloaded}")
              .refuses({ErrorCode::UnknownDevice, ErrorCode::Conflict})
              .returns(schemas::object(R"("id":{"type":"string"},"lifecycle":{"type":"string"},)"
                                       R"("retired_at":{"type":"string","format":"date-time","nullable":true},)"
                                       R"("broker_reloaded":{"type":"boolean"})",
                                       R"("id","lifecycle","retired_at","broker_reloaded")"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto dev = cat.device(req.param("id"));
                  if (!dev || !sees_device(req.who, *dev))
                      fail(ErrorCode::UnknownDevice, "no such device");
                  if (const auto refusal = retire_device(*d, *dev, s.now()))
                      fail(refusal->code, refusal->why);
                  const bool reloaded = sync_broker_users(s, *d, dev->id);
                  json::Writer w;
                  w.begin_object().field("id", dev->id).field("lifecycle", dev->lifecycle);
                  write_time(w, s, "retired_at", dev->retired_at);
                  w.field("broker_reloaded", reloaded).end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/devices/assign", "admin.devices.assign", "admin-devices",
                      "Install or relocate several devices at one station, all or nothing: when any one is refused "
                      "none moves, and the answer lists each refusal")
              .admin("devices.write")
              .field(array("device_ids", true, "The devices, 1..500 ids."))
              .field(integer("station_id", true, 1, INT64_MAX, "The station."))
              .field(integer("area_id", false, 1, INT64_MAX, "An area of the station."))
              .answers("{station_id, area_id, assigned: [device id]}; refused: 409 {error: {code: conflict, message, "
                       "refused: [{device_id, code, message}]}} (code unknown_device, not_found or conflict)")
              .refuses({ErrorCode::Conflict, ErrorCode::NotFound})
              .returns(schemas::object(R"("station_id":{"type":"integer","format":"int64"},)"
                                       R"("area_id":{"type":"integer","format":"int64","nullable":true},)"
                                       R"("assigned":{"type":"array","items":{"type":"string"}})",
                                       R"("station_id","area_id","assigned")"))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  auto ids_arr = b.req_arr("device_ids", 500);
                  std::vector<std::string> ids;
                  for (std::size_t i = 0; i < ids_arr.size(); ++i)
                      if (auto id = ids_arr.str_at(i, 48))
                          ids.push_back(*id);
                  const Placement to{b.req_int("station_id", 1, INT64_MAX), b.opt_int("area_id", 1, INT64_MAX)};
                  req.check_body();
                  if (ids.empty())
                      fail(ErrorCode::InvalidRequest, "device_ids lists no device");
                  if (std::set<std::string>(ids.begin(), ids.end()).size() != ids.size())
                      fail(ErrorCode::InvalidRequest, "device_ids names a device twice");
                  auto d = s.core->get();
                  std::vector<DeviceRow> devices;
                  const auto refused = assign_devices(*d, req.who, ids, to, s.now(), devices);
                  if (!refused.empty()) {
                      json::Writer w;
                      w.begin_object().key("error").begin_object();
                      w.field("code", to_string(ErrorCode::Conflict))
                          .field("message", fmt::format("{} of {} devices refused; none was assigned", refused.size(),
                                                        ids.size()));
                      w.key("refused").begin_array();
                      for (const auto& [id, refusal] : refused)
                          w.begin_object()
                              .field("device_id", id)
                              .field("code", to_string(refusal.code))
                              .field("message", refusal.why)
                              .end_object();
                      w.end_array().end_object().end_object();
                      return Response::json(w.str(), http_status(ErrorCode::Conflict));
                  }
                  json::Writer w;
                  w.begin_object().field("station_id", to.station_id).nullable_field("area_id", to.area_id);
                  w.key("assigned").begin_array();
                  for (const auto& dev : devices)
                      w.value(dev.id);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));
}

} // namespace pilehub::api
