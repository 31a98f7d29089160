// The command log (seed 004 指令列表): every command sent to a device, who asked, its reply and
// latency; and commissioning (seed 004 远程控制): an operator runs a socket for a set time, free.
#include "common/json.hpp"
#include "web-api/command_store.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

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
              .handle([&s](Request& req) {
                  const auto f = command_filter(s, req, req.query("device").value_or(""));
                  auto d = s.core->get();
                  return Response::json(commands_reply(s, CommandStore(*d).commands(f)));
              }));
    r.add(list(Route::make(Method::Get, "/api/v1/admin/devices/{id}/commands", "admin.devices.commands",
                           "admin-devices", "One device's command log, newest first (GET /admin/commands?device=)")
                   .param(key_param("id", "Device id."))
                   .refuses({ErrorCode::UnknownDevice}))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto dev = device_in_scope(cat, req.who, req.param("id"));
                  const auto f = command_filter(s, req, dev.id);
                  return Response::json(commands_reply(s, CommandStore(*d).commands(f)));
              }));
}

} // namespace pilehub::api
