// OTA (CONTRACT G): firmware upload and list, rollouts (create, list, show, halt) and the devices'
// download with a per-rollout token. otad drives each rollout after its creation.
#include "common/crypto.hpp"
#include "common/files.hpp"
#include "common/ota.hpp"
#include "web-api/openapi_schemas.hpp"
#include "web-api/ota_store.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace pilehub::api {
namespace {

constexpr std::int64_t kDefaultTokenTtlS = 7 * 86'400;

void write_firmware(json::Writer& w, const Services& s, const FirmwareRow& f) {
    w.field("id", f.id).field("kind", f.kind).field("model", f.model).field("version", f.version);
    w.field("sha256", f.sha256).field("size", f.size).field("uploaded_by", f.uploaded_by);
    write_time(w, s, "created_at", f.created_at);
}

void write_rollout(json::Writer& w, const Services& s, const RolloutRow& r) {
    w.field("id", r.id).field("firmware_id", r.firmware_id).field("version", r.version).field("target", r.target);
    w.field("state", r.state).field("failures", r.failures).field("halt_reason", r.halt_reason);
    w.field("batch_size", r.batch_size).field("batch_interval_s", r.batch_interval_s);
    w.field("max_failures", r.max_failures).field("timeout_s", r.timeout_s).field("created_by", r.created_by);
    write_time(w, s, "created_at", r.created_at);
    write_time(w, s, "finished_at", r.finished_at);
    write_time(w, s, "token_expires_at", r.token_expires_at);
    w.key("devices_by_state").begin_object();
    for (const auto& [state, n] : r.counts)
        w.field(state, n);
    w.end_object();
}

RolloutRow rollout_in_scope(OtaStore& store, const Principal& who, std::int64_t id) {
    auto r = store.rollout(id);
    if (!r || !store.rollout_in_scope(id, scope_of(who)))
        fail(ErrorCode::NotFound, "no such rollout");
    return *r;
}

std::string slurp_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

void add_admin_ota_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Post, "/api/v1/admin/firmware", "admin.firmware.upload", "admin-ota",
                      "Upload a firmware image (the raw bytes as the body, at most pilehub-api.firmware_max_bytes): "
                      "kept under the data directory by its SHA-256")
              .admin("devices.write")
              .q(str("version", true, 64, "The image's version (what devices report in presence fw)."))
              .q(str_enum("kind", true, {"ebike_pile", "ev_charger", "camera"}, "The device kind it is for."))
              .q(str("model", false, 64, "The device model it is for (empty: every model of the kind)."))
              .raw_body(static_cast<std::size_t>(s.settings.firmware_max_bytes))
              .ok(201)
              .answers("{id, kind, model, version, sha256, size, uploaded_by, created_at}")
              .refuses({ErrorCode::Conflict})
              .returns(schemas::ref("Firmware"))
              .handle([&s](Request& req) {
                  const auto& image = req.body_text();
                  if (image.empty())
                      fail(ErrorCode::InvalidRequest, "the body must be the firmware image");
                  FirmwareRow f;
                  f.kind = *req.query("kind");
                  f.model = req.query("model").value_or("");
                  f.version = *req.query("version");
                  f.sha256 = crypto::sha256_hex(image);
                  f.size = static_cast<std::int64_t>(image.size());
                  f.path = ota::image_path(s.settings.data_dir, f.sha256);
                  f.uploaded_by = req.who.name;
                  f.created_at = s.now();
                  // Content-addressed: writing the same image again changes nothing.
                  files::write_private_file_atomically(f.path, image);
                  auto d = s.core->get();
                  f.id = OtaStore(*d).add_firmware(f);
                  json::Writer w;
                  w.begin_object();
                  write_firmware(w, s, f);
                  w.end_object();
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/firmware", "admin.firmware.list", "admin-ota",
                      "Uploaded firmware images, newest first")
              .admin("devices.read")
              .q(str_enum("kind", false, {"ebike_pile", "ev_charger", "camera"}, "Only this kind."))
              .returns(schemas::list_of("firmware", schemas::ref("Firmware")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("firmware").begin_array();
                  for (const auto& f : OtaStore(*d).firmware_list(req.query("kind").value_or(""))) {
                      w.begin_object();
                      write_firmware(w, s, f);
                      w.end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/firmware/{id}/rollouts", "admin.firmware.rollout", "admin-ota",
                      "Roll an image out to devices of its kind (and model) batch by batch: give device_ids, "
                      "station_id or model. otad sends cmd/ota to idle devices, batch_size at a time, each batch "
                      "after the previous one ended and batch_interval_s passed, and halts past max_failures")
              .admin("devices.command")
              .param(id_param("id", "Firmware id."))
              .field(array("device_ids", false, "These devices (each of the image's kind and model, in scope)."))
              .field(integer("station_id", false, 1, INT64_MAX, "Every device of the image's kind at this station."))
              .field(str("model", false, 64, "Every device in scope of the image's kind with this model."))
              .field(integer("batch_size", false, 1, 10'000, "Devices sent cmd/ota at once (default 1)."))
              .field(integer("batch_interval_s", false, 0, 7 * 86'400,
                             "Seconds between the end of a batch and the next one (default 0)."))
              .field(integer("max_failures", false, 0, 100'000,
                             "Failures tolerated: one more halts the rollout (default 0)."))
              .field(integer("timeout_s", false, 10, 7 * 86'400,
                             "A device without progress this long fails; an offline one waits this long once its "
                             "turn came, then is skipped (default 600)."))
              .field(integer("token_ttl_s", false, 60, 90 * 86'400,
                             "How long the download token is valid (default 7 days; it also ends with the rollout)."))
              .ok(201)
              .answers("{id, token, token_expires_at, download_path, devices: [device ids]}")
              .refuses({ErrorCode::NotFound, ErrorCode::UnknownDevice, ErrorCode::Conflict})
              .returns(schemas::object(
                  R"("id":{"type":"integer","format":"int64"},"firmware_id":{"type":"integer","format":"int64"},)"
                  R"("version":{"type":"string"},"token":{"type":"string"},)"
                  R"("token_expires_at":{"type":"string","format":"date-time","nullable":true},)"
                  R"("download_path":{"type":"string"},)"
                  R"("devices":{"type":"array","items":{"type":"string"}})",
                  R"("id","firmware_id","version","token","token_expires_at","download_path","devices")"))
              .handle([&s](Request& req) {
                  auto body = req.body();
                  auto ids_arr = body.opt_arr("device_ids", 10'000);
                  const auto station_id = body.opt_int("station_id");
                  const auto model = body.opt_str("model", 64);
                  NewRollout n;
                  n.batch_size = body.opt_int("batch_size").value_or(1);
                  n.batch_interval_s = body.opt_int("batch_interval_s").value_or(0);
                  n.max_failures = body.opt_int("max_failures").value_or(0);
                  n.timeout_s = body.opt_int("timeout_s").value_or(600);
                  const auto ttl_s = body.opt_int("token_ttl_s").value_or(kDefaultTokenTtlS);
                  std::optional<std::vector<std::string>> ids;
                  if (ids_arr.present()) {
                      ids.emplace();
                      for (std::size_t i = 0; i < ids_arr.size(); ++i)
                          if (auto v = ids_arr.str_at(i, 48))
                              ids->push_back(*v);
                  }
                  req.check_body();
                  if ((ids ? 1 : 0) + (station_id ? 1 : 0) + (model ? 1 : 0) != 1)
                      fail(ErrorCode::InvalidRequest, "give exactly one of device_ids, station_id, model");
                  if (ids && ids->empty())
                      fail(ErrorCode::InvalidRequest, "device_ids is empty");
                  auto d = s.core->get();
                  OtaStore store(*d);
                  const auto fw = store.firmware(req.param_int("id"));
                  if (!fw)
                      fail(ErrorCode::NotFound, "no such firmware");
                  if (station_id)
                      require_station(req.who, *station_id);
                  if (model && !fw->model.empty() && *model != fw->model)
                      fail(ErrorCode::InvalidRequest,
                           fmt::format("the image is for model {}, not {}", fw->model, *model));
                  const auto want_model = fw->model.empty() ? model.value_or("") : fw->model;
                  std::vector<std::string> chosen;
                  for (const auto& dev : store.devices(fw->kind, want_model, ids, station_id))
                      if (req.who.sees_station(dev.station_id))
                          chosen.push_back(dev.id);
                  if (ids && chosen.size() != ids->size()) {
                      for (const auto& id : *ids)
                          if (std::find(chosen.begin(), chosen.end(), id) == chosen.end())
                              fail(ErrorCode::UnknownDevice,
                                   fmt::format("no {} {}{} in your scope", fw->kind, id,
                                               fw->model.empty() ? "" : " of model " + fw->model));
                  }
                  if (chosen.empty())
                      fail(ErrorCode::InvalidRequest, "no device matches");
                  if (auto busy = store.in_running_rollout(chosen); !busy.empty())
                      fail(ErrorCode::Conflict, fmt::format("{} is in a running rollout already", busy.front()));
                  n.firmware_id = fw->id;
                  n.target = ids ? "devices" : station_id ? fmt::format("station {}", *station_id) : "model " + *model;
                  n.token_expires_at = s.now() + ttl_s * 1000;
                  n.created_by = req.who.name;
                  n.device_ids = chosen;
                  const auto key = ota::token_key(s.settings.data_dir);
                  const auto id = store.create_rollout(
                      n, [&](std::int64_t rollout) { return ota::rollout_token(key, rollout); }, s.now());
                  const auto token = ota::rollout_token(key, id);
                  json::Writer w;
                  w.begin_object().field("id", id).field("firmware_id", fw->id).field("version", fw->version);
                  w.field("token", token);
                  write_time(w, s, "token_expires_at", n.token_expires_at);
                  w.field("download_path", ota::download_url("", fw->id, token));
                  w.key("devices").begin_array();
                  for (const auto& dev : chosen)
                      w.value(dev);
                  w.end_array().end_object();
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/rollouts", "admin.rollouts.list", "admin-ota",
                      "Rollouts in scope, newest first (at most 200), with their devices counted by state")
              .admin("devices.read")
              .returns(schemas::list_of("rollouts", schemas::ref("Rollout")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("rollouts").begin_array();
                  for (const auto& ro : OtaStore(*d).rollouts(scope_of(req.who))) {
                      w.begin_object();
                      write_rollout(w, s, ro);
                      w.end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/rollouts/{id}", "admin.rollouts.get", "admin-ota",
                      "One rollout and each device's state (pending, sent, downloading, installing, installed, failed, "
                      "skipped) with the version it last reported")
              .admin("devices.read")
              .param(id_param("id", "Rollout id."))
              .refuses({ErrorCode::NotFound})
              .returns(schemas::ref("Rollout"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  OtaStore store(*d);
                  const auto ro = rollout_in_scope(store, req.who, req.param_int("id"));
                  json::Writer w;
                  w.begin_object();
                  write_rollout(w, s, ro);
                  w.key("devices").begin_array();
                  for (const auto& dev : store.rollout_devices(ro.id)) {
                      w.begin_object().field("device_id", dev.device_id).field("state", dev.state);
                      w.opt_field("batch", dev.batch).opt_field("progress_pct", dev.progress_pct);
                      w.field("error", dev.error).opt_field("rid", dev.rid);
                      w.opt_field("reported_version", dev.reported_version);
                      write_time(w, s, "sent_at", dev.sent_at);
                      write_time(w, s, "updated_at", dev.updated_at);
                      w.end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/rollouts/{id}/halt", "admin.rollouts.halt", "admin-ota",
                      "Halt a running rollout: its pending devices are skipped and never get cmd/ota")
              .admin("devices.command")
              .param(id_param("id", "Rollout id."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(schemas::ref("Rollout"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  OtaStore store(*d);
                  const auto ro = rollout_in_scope(store, req.who, req.param_int("id"));
                  if (!store.halt(ro.id, req.who.name, s.now()))
                      fail(ErrorCode::Conflict, fmt::format("the rollout is {}", ro.state));
                  json::Writer w;
                  w.begin_object();
                  write_rollout(w, s, *store.rollout(ro.id));
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/firmware/{id}", "firmware.download", "ota",
                      "A device downloads an image with its rollout's token (the URL in cmd/ota); a wrong or expired "
                      "token, or one of a rollout that ended, gets 403")
              .param(id_param("id", "Firmware id."))
              .q(str("token", true, 128, "The rollout's download token."))
              .produce("application/octet-stream")
              .refuses({ErrorCode::Forbidden})
              .handle([&s](Request& req) {
                  std::optional<std::string> path;
                  {
                      auto d = s.core->get();
                      path = OtaStore(*d).download_path(req.param_int("id"), crypto::sha256_hex(*req.query("token")),
                                                        s.now());
                  }
                  if (!path)
                      fail(ErrorCode::Forbidden, "this token does not open this image");
                  return Response::file(slurp_file(*path), "application/octet-stream");
              }));
}

} // namespace pilehub::api
