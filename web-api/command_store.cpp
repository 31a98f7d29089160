#include "web-api/command_store.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

// sessiond's log and parkingd's lock commands as one list (a lock command's payload is built from its
// two constrained words; its reply's code and msg are read as columns).
constexpr const char* kCommands =
    "SELECT src, device_id, station_id, name, n, rid, payload, requested_by, sid, sent_at, reply_status, reply, "
    "reply_code, reply_msg, replied_at, latency_ms, outcome FROM ("
    "SELECT 'sessiond' AS src, c.device_id, d.station_id, c.name, c.n, c.rid, c.payload, c.requested_by, c.sid, "
    "c.sent_at, c.reply_status, c.reply, NULL AS reply_code, NULL AS reply_msg, c.replied_at, c.latency_ms, "
    "coalesce(c.outcome, 'pending') AS outcome FROM device_commands c LEFT JOIN devices d ON d.id = c.device_id "
    "UNION ALL "
    "SELECT 'parkingd', l.camera_id, d.station_id, 'lock', l.space, l.rid, "
    "'{\"action\":\"' || l.action || '\",\"cause\":\"' || l.cause || '\"}', "
    "CASE WHEN l.requested_by = 'parkingd' THEN 'system:parkingd' ELSE l.requested_by END, NULL, "
    "coalesce(l.sent_at, l.created_at), l.result_st, NULL, l.code, l.msg, l.done_at, "
    "CASE WHEN l.done_at IS NOT NULL AND l.sent_at IS NOT NULL AND l.done_at >= l.sent_at "
    "THEN l.done_at - l.sent_at END, l.state FROM lock_commands l LEFT JOIN devices d ON d.id = l.camera_id"
    ") AS log WHERE (?1 = '' OR device_id = ?1) AND (?2 = '' OR name = ?2) AND (?3 = '' OR outcome = ?3) "
    "AND (?4 IS NULL OR sent_at >= ?4) AND (?5 IS NULL OR sent_at < ?5)";

} // namespace

std::vector<CommandRow> CommandStore::commands(const CommandFilter& f) {
    std::string sql = kCommands;
    if (f.scope) {
        // Only the operator's stations: their ids are bound after the five filters.
        sql += " AND station_id IN (NULL";
        for (std::size_t i = 0; i < f.scope->size(); ++i)
            sql += fmt::format(", ?{}", 8 + i);
        sql += ")";
    }
    sql += " ORDER BY sent_at DESC, rid DESC LIMIT ?6 OFFSET ?7";
    db::Statement st(db_, sql);
    st.bind_all(f.device_id, f.name, f.outcome, f.from, f.to, f.limit, f.offset);
    if (f.scope) {
        int i = 8;
        for (const auto id : *f.scope)
            st.bind(i++, id);
    }
    std::vector<CommandRow> out;
    while (st.step()) {
        CommandRow r;
        r.source = st.text(0);
        r.device_id = st.text(1);
        r.station_id = st.opt_int64(2);
        r.name = st.text(3);
        r.n = st.opt_int64(4);
        r.rid = st.text(5);
        r.payload = st.text(6);
        r.requested_by = st.text(7);
        r.sid = st.opt_text(8);
        r.sent_at = st.int64(9);
        r.reply_status = st.opt_text(10);
        r.reply = st.opt_text(11);
        r.reply_code = st.opt_text(12);
        r.reply_msg = st.opt_text(13);
        r.replied_at = st.opt_int64(14);
        r.latency_ms = st.opt_int64(15);
        r.outcome = st.text(16);
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace pilehub::api
