// The command log (seed 004 指令列表): every command sent to a device, who asked, its reply and
// latency; and commissioning (seed 004 远程控制): an operator runs a socket for a set time, free.
#include "common/json.hpp"
#include "common/socket_code.hpp"
#include "web-api/command_store.hpp"
#include "web-api/openapi_schemas.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

constexpr std::int64_t kMaxExportRows = 200'000;

const std::vector<std::string> kOutcomes{"ok",          "rejected", "failed", "timeout",    "expired",
                                         "unsupported", "invalid",  "busy",   "superseded", "pending"};

CommandFilter command_filter(const Services& s, const Request& req, std::string device) {
    CommandFilter f;
    f.device_id = std::move(device);
    f.name = req.query("name").value_or("");
    f.outcome = req.query("outcome").value_or("");
    f.from = query_time(s, req, "from");
    f.to = query_time(s, req, "to");
    if (f.from && f.to && *f.from >= *f.to)
        fail(ErrorCode::InvalidRequest, "from must be before to");
    f.scope = scope_of(req.who);
    f.limit = req.query_int("limit").value_or(50);
    f.offset = req.query_int("offset").value_or(0);
    return f;
}

/// `{commands: [{source, device_id, station_id, name, n, rid, payload, requested_by, session_id, sent_at,
/// reply_status, reply, replied_at, latency_ms, outcome}]}`.
std::string commands_reply(const Services& s, const std::vector<CommandRow>& rows) {
    json::Writer w;
    w.begin_object().key("commands").begin_array();
    for (const auto& r : rows) {
        w.begin_object().field("source", r.source).field("device_id", r.device_id);
        w.nullable_field("station_id", r.station_id).field("name", r.name).nullable_field("n", r.n);
        w.field("rid", r.rid).key("payload");
        if (const auto p = json::parse(r.payload); p && p->IsObject())
            w.raw_value(*p);
        else
            w.null();
        w.field("requested_by", r.requested_by).nullable_field("session_id", r.sid);
        w.field("sent_at", when(s, r.sent_at)).nullable_field("reply_status", r.reply_status).key("reply");
        if (const auto p = json::parse(r.reply.value_or("")); p && p->IsObject())
            w.raw_value(*p);
        else if (r.reply_code || r.reply_msg)
            w.begin_object().nullable_field("code", r.reply_code).nullable_field("msg", r.reply_msg).end_object();
        else
            w.null();
        w.key("replied_at");
        if (r.replied_at)
            w.value(when(s, *r.replied_at));
        else
            w.null();
        w.nullable_field("latency_ms", r.latency_ms).field("outcome", r.outcome).end_object();
    }
    w.end_array().end_object();
    return w.str();
}

/// The device of a commissioning route: in the operator's scope, with sockets or guns.
DeviceRow commissioned_device(CatalogStore& cat, const Principal& who, const std::string& id) {
    auto dev = device_in_scope(cat, who, id);
    if (dev.kind != "ebike_pile" && dev.kind != "ev_charger")
        fail(ErrorCode::Unsupported, fmt::format("a {} has no sockets to commission", dev.kind));
    return dev;
}

/// The start request of a commissioning run of one socket.
svc::StartRequest commissioning(const std::string& device_id, int n, std::int64_t minutes, const std::string& who) {
    svc::StartRequest r;
    r.account_id = 0;
    r.socket = sockets::socket_code({device_id, n});
    r.mode = billing::Mode::Time;
    r.minutes = minutes;
    r.operator_name = who;
    return r;
}

/// `{session: {...}}` as the admin session routes show it, read back after sessiond's answer.
Response session_answer(Services& s, const std::string& sid) {
    auto d = s.core->get();
    const auto row = SessionStore(*d).session(sid);
    if (!row)
        fail(ErrorCode::Internal, "the session sessiond answered is not in the database");
    json::Writer w;
    w.begin_object().key("session").begin_object();
    write_session(w, s, *row, true);
    w.end_object().end_object();
    return Response::json(w.str(), 202);
}

/// The command log as an export table (the list's fields, one row per command).
exports::Table commands_table(const Services& s, const std::vector<CommandRow>& rows) {
    exports::Table t;
    t.name = "commands";
    t.headers = {"sent_at",      "device_id",    "station_id", "name",       "n",
                 "rid",          "requested_by", "session_id", "payload",    "outcome",
                 "reply_status", "reply",        "replied_at", "latency_ms", "source"};
    auto opt_int = [](std::optional<std::int64_t> v) { return v ? exports::Cell(*v) : exports::Cell(std::string()); };
    for (const auto& r : rows)
        t.rows.push_back({when(s, r.sent_at), r.device_id, opt_int(r.station_id), r.name, opt_int(r.n), r.rid,
                          r.requested_by, r.sid.value_or(""), r.payload, r.outcome, r.reply_status.value_or(""),
                          r.reply.value_or(r.reply_msg.value_or("")), r.replied_at ? when(s, *r.replied_at) : "",
                          opt_int(r.latency_ms), r.source});
    return t;
}

FieldSpec minutes_field() {
    return integer("minutes", true, 1, svc::kMaxCommissioningMinutes, "How long it runs, minutes (1–720).");
}

} // namespace

void add_admin_command_routes(Router& r, Services& s) {
    auto list = [](Route route) {
        route.admin("devices.read")
            .q(str("name", false, 32, "One command (start_port, stop_port, reboot, lock, ...)."))
            .q(str_enum("outcome", false, kOutcomes, "One outcome (pending: no answer yet)."))
            .q(str("from", false, 40, "Sent from (RFC 3339 or YYYY-MM-DD)."))
            .q(str("to", false, 40, "Sent before (RFC 3339 or YYYY-MM-DD); after from."))
            .q(limit_param())
            .q(offset_param());
        return route;
    };
    r.add(list(Route::make(Method::Get, "/api/v1/admin/commands", "admin.commands", "admin-devices",
                           "The command log, newest first: every command sent to a device (sessions' start and "
                           "stop, operators' remote commands, space locks) with who asked, its rid, the reply "
                           "and its latency, or its time-out")
                   .q(str("device", false, 48, "One device.")))
              .returns(schemas::list_of("commands", schemas::ref("Command")))
              .handle([&s](Request& req) {
                  const auto f = command_filter(s, req, req.query("device").value_or(""));
                  auto d = s.core->get();
                  return Response::json(commands_reply(s, CommandStore(*d).commands(f)));
              }));
    r.add(Route::make(Method::Get, "/api/v1/admin/exports/commands", "admin.exports.commands", "admin-reports",
                      "The command log as CSV or XLSX (the filters of GET /admin/commands)")
              .admin("exports.read")
              .q(format_param())
              .q(str("device", false, 48, "One device."))
              .q(str("name", false, 32, "One command."))
              .q(str_enum("outcome", false, kOutcomes, "One outcome."))
              .q(str("from", false, 40, "Sent from (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Sent before (RFC 3339 or YYYY-MM-DD); after from."))
              .produce("text/csv")
              .handle([&s](Request& req) {
                  auto f = command_filter(s, req, req.query("device").value_or(""));
                  f.limit = kMaxExportRows;
                  f.offset = 0;
                  auto d = s.core->get();
                  return send_table(commands_table(s, CommandStore(*d).commands(f)),
                                    req.query("format").value_or("csv"), "commands");
              }));
    r.add(list(Route::make(Method::Get, "/api/v1/admin/devices/{id}/commands", "admin.devices.commands",
                           "admin-devices", "One device's command log, newest first (GET /admin/commands?device=)")
                   .param(key_param("id", "Device id."))
                   .refuses({ErrorCode::UnknownDevice}))
              .returns(schemas::list_of("commands", schemas::ref("Command")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto dev = device_in_scope(cat, req.who, req.param("id"));
                  const auto f = command_filter(s, req, dev.id);
                  return Response::json(commands_reply(s, CommandStore(*d).commands(f)));
              }));

    // ---- commissioning (seed 004 远程控制) ----
    r.add(Route::make(Method::Post, "/api/v1/admin/devices/{id}/ports/{n}/start", "admin.ports.start", "admin-devices",
                      "Commissioning: run one socket (or gun) for a set time, free: a session of method operator with "
                      "the operator's name and no rider account, settled at 0 fen")
              .admin("devices.command")
              .param(key_param("id", "Device id."))
              .param(id_param("n", "Socket or gun number."))
              .field(minutes_field())
              .refuses({ErrorCode::UnknownDevice, ErrorCode::UnknownSocket, ErrorCode::Unsupported,
                        ErrorCode::DeviceOffline, ErrorCode::SocketFaulted, ErrorCode::SocketBusy, ErrorCode::Timeout})
              .ok(202)
              .returns(schemas::one_of_key("session", schemas::ref("AdminSession")))
              .handle([&s](Request& req) {
                  std::string device_id;
                  {
                      auto d = s.core->get();
                      CatalogStore cat(*d);
                      device_id = commissioned_device(cat, req.who, req.param("id")).id;
                  }
                  const auto n = static_cast<int>(std::min<std::int64_t>(req.param_int("n"), 999));
                  auto b = req.body();
                  const auto minutes = b.req_int("minutes", 1, svc::kMaxCommissioningMinutes);
                  req.check_body();
                  const auto reply =
                      call_sessiond(s, commissioning(device_id, n, minutes, req.who.name), s.settings.rpc_timeout_ms);
                  return session_answer(s, reply_data<svc::StartReply>(reply).session.id);
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/devices/{id}/ports/{n}/stop", "admin.ports.stop", "admin-devices",
                      "Commissioning: stop the operator's run of one socket (a rider's session: force-end it)")
              .admin("devices.command")
              .param(key_param("id", "Device id."))
              .param(id_param("n", "Socket or gun number."))
              .refuses({ErrorCode::UnknownDevice, ErrorCode::NotFound, ErrorCode::Conflict, ErrorCode::Unsupported,
                        ErrorCode::Timeout})
              .ok(202)
              .returns(schemas::one_of_key("session", schemas::ref("AdminSession")))
              .handle([&s](Request& req) {
                  std::optional<SessionRow> live;
                  {
                      auto d = s.core->get();
                      CatalogStore cat(*d);
                      const auto dev = commissioned_device(cat, req.who, req.param("id"));
                      const auto n = static_cast<int>(std::min<std::int64_t>(req.param_int("n"), 999));
                      SessionFilter f;
                      f.device_id = dev.id;
                      f.state = "active";
                      for (auto& row : SessionStore(*d).sessions(f))
                          if (row.n == n)
                              live = std::move(row);
                  }
                  if (!live)
                      fail(ErrorCode::NotFound, "nothing runs on this socket");
                  if (live->method != "operator")
                      fail(ErrorCode::Conflict,
                           fmt::format("socket runs a rider's session {}: force-end it instead", live->id));
                  call_sessiond(s, svc::StopRequest{live->id, svc::StopCause::UserStop, "operator:" + req.who.name},
                                s.settings.rpc_timeout_ms);
                  return session_answer(s, live->id);
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/devices/{id}/ports/start-all", "admin.ports.start_all",
                      "admin-devices",
                      "Commissioning a new pile: run every enabled socket (or gun) for a set time, free; answers per "
                      "port (a busy, faulted or offline one is refused with its code)")
              .admin("devices.command")
              .param(key_param("id", "Device id."))
              .field(minutes_field())
              .refuses({ErrorCode::UnknownDevice, ErrorCode::Unsupported})
              .ok(202)
              .returns(schemas::object(
                  R"("device_id":{"type":"string"},"started":{"type":"integer"},)"
                  R"("ports":{"type":"array","items":{"type":"object","additionalProperties":false,)"
                  R"("required":["n","started"],"properties":{"n":{"type":"integer"},"started":{"type":"boolean"},)"
                  R"("session_id":{"type":"string"},"code":{"type":"string"},"msg":{"type":"string"}}}})",
                  R"("device_id","ports","started")"))
              .handle([&s](Request& req) {
                  std::vector<PortRow> ports;
                  std::string device_id;
                  {
                      auto d = s.core->get();
                      CatalogStore cat(*d);
                      device_id = commissioned_device(cat, req.who, req.param("id")).id;
                      ports = cat.ports(device_id);
                  }
                  auto b = req.body();
                  const auto minutes = b.req_int("minutes", 1, svc::kMaxCommissioningMinutes);
                  req.check_body();
                  json::Writer w;
                  w.begin_object().field("device_id", device_id).key("ports").begin_array();
                  int started = 0;
                  for (const auto& p : ports) {
                      w.begin_object().field("n", p.n);
                      if (!p.enabled) {
                          w.field("started", false).field("code", "unknown_socket").field("msg", "disabled");
                          w.end_object();
                          continue;
                      }
                      const auto req_data = svc::encode(commissioning(device_id, p.n, minutes, req.who.name));
                      const auto reply = call_sessiond(s, svc::Traits<svc::StartRequest>::kMethod, req_data,
                                                       s.settings.rpc_timeout_ms);
                      const auto answer = reply.ok() ? svc::decode<svc::StartReply>(reply.data_json)
                                                     : Result<svc::StartReply>::failure(reply.msg);
                      w.field("started", answer.ok());
                      if (answer.ok()) {
                          ++started;
                          w.field("session_id", answer.value().session.id);
                      } else {
                          w.field("code", reply.code.empty() ? std::string("internal") : reply.code)
                              .field("msg", reply.ok() ? answer.error() : reply.msg);
                      }
                      w.end_object();
                  }
                  w.end_array().field("started", started).end_object();
                  return Response::json(w.str(), 202);
              }));
}

} // namespace pilehub::api
