#include "web-api/alert_store.hpp"

#include "common/json.hpp"

namespace pilehub::api {
namespace {

constexpr const char* kColumns =
    "SELECT a.id, a.kind, a.device_id, a.n, a.subject, a.state, a.severity, a.detail, a.opened_at, a.acked_by, "
    "a.acked_at, a.resolved_by, a.resolved_at, a.last_seen, d.station_id FROM alerts a "
    "LEFT JOIN devices d ON d.id = a.device_id ";

// The scope is a JSON array of station ids (NULL: every station and none).
const std::string kList =
    std::string(kColumns) +
    "WHERE (?1 = '' OR a.state = ?1) AND (?2 = '' OR a.kind = ?2) AND (?3 = '' OR a.device_id = ?3) "
    "AND (?4 IS NULL OR a.opened_at >= ?4) AND (?5 IS NULL OR a.opened_at < ?5) "
    "AND (?6 IS NULL OR d.station_id IN (SELECT value FROM json_each(?6))) AND (?9 IS NULL OR d.station_id = ?9) "
    "ORDER BY a.opened_at DESC, a.id DESC LIMIT ?7 OFFSET ?8";
const std::string kGet = std::string(kColumns) + "WHERE a.id = ?1";
constexpr std::string_view kAck = "UPDATE alerts SET state = 'acknowledged', acked_by = ?2, acked_at = ?3 "
                                  "WHERE id = ?1 AND state = 'open'";
constexpr std::string_view kResolve = "UPDATE alerts SET state = 'resolved', resolved_by = ?2, resolved_at = ?3 "
                                      "WHERE id = ?1 AND state IN ('open', 'acknowledged')";

AlertRow read(db::Statement& s) {
    return AlertRow{s.int64(0),      s.text(1),      s.opt_text(2),   s.int64(3),  s.text(4),
                    s.text(5),       s.text(6),      s.text(7),       s.int64(8),  s.opt_text(9),
                    s.opt_int64(10), s.opt_text(11), s.opt_int64(12), s.int64(13), s.opt_int64(14)};
}

std::optional<std::string> scope_json(const std::optional<std::set<std::int64_t>>& scope) {
    if (!scope)
        return std::nullopt;
    json::Writer w;
    w.begin_array();
    for (auto id : *scope)
        w.value(id);
    w.end_array();
    return w.str();
}

} // namespace

std::vector<AlertRow> AlertStore::list(const AlertFilter& f) {
    db::Statement st(db_, kList);
    st.bind_all(f.state, f.kind, f.device_id, f.from, f.to, scope_json(f.scope), f.limit, f.offset, f.station_id);
    std::vector<AlertRow> out;
    while (st.step())
        out.push_back(read(st));
    return out;
}

std::optional<AlertRow> AlertStore::get(std::int64_t id) {
    db::Statement st(db_, kGet);
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return read(st);
}

AlertChange AlertStore::change(std::int64_t id, alerts::Event event, const std::string& who, EpochMs at) {
    const auto row = get(id);
    if (!row)
        return AlertChange::NotFound;
    const auto state = alerts::parse_state(row->state).value_or(alerts::State::Resolved);
    // Seen from the operator's side: a resolved alert has no slot left to act on.
    const auto slot = state == alerts::State::Open           ? alerts::Slot::Open
                      : state == alerts::State::Acknowledged ? alerts::Slot::Acknowledged
                                                             : alerts::Slot::Resolved;
    const auto step = alerts::handle(slot, event);
    if (step.action != alerts::Action::Ack && step.action != alerts::Action::Resolve)
        return AlertChange::WrongState;
    db::Statement st(db_, step.action == alerts::Action::Ack ? kAck : kResolve);
    st.bind_all(id, who, at).run();
    return db_.changes() == 1 ? AlertChange::Done : AlertChange::WrongState;
}

} // namespace pilehub::api
