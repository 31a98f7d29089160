#include "workers/sessiond/sessiond_store.hpp"

#include "common/in_service_sql.hpp"
#include "common/svc.hpp"

#include <sqlite3.h>

namespace pilehub::sessiond {
namespace {

constexpr const char* kSessionColumns =
    "id, account_id, method, card_no, device_id, n, station_id, mode, minutes, tariff_id, state, stop_reason, "
    "stop_requested, failure, created_at, started_at, ended_at, energy_wh, duration_s, max_power_w, last_power_w, "
    "last_report_at, record_msg_id, cost_fen, cmd_rid, cmd_exp, updated_at, stop_requested_at, max_fen, "
    "meter_start_wh, "
    "meter_stop_wh, soc_pct, operator_name";

constexpr const char* kSelectSession = "SELECT {} FROM sessions WHERE id = ?1";
constexpr const char* kSelectOpen =
    "SELECT {} FROM sessions WHERE state IN " PILEHUB_HOLDS_SOCKET_SQL " ORDER BY created_at, id";
constexpr const char* kSelectLiveOnSocket =
    "SELECT {} FROM sessions WHERE device_id = ?1 AND n = ?2 AND state IN " PILEHUB_HOLDS_SOCKET_SQL;
constexpr const char* kSelectLiveOnDevice =
    "SELECT {} FROM sessions WHERE device_id = ?1 AND state IN " PILEHUB_HOLDS_SOCKET_SQL " ORDER BY n";

constexpr const char* kSelectLiveMethod =
    "SELECT 1 FROM sessions WHERE account_id = ?1 AND method = ?2 AND state IN " PILEHUB_HOLDS_SOCKET_SQL " LIMIT 1";

// In service: the socket (an e-bike pile's) or gun (an EV charger's), its device, the device's area (if
// any), the station, and the station's property and provider (if any) all enabled, the device installed
// (a device in stock has no station: LEFT JOIN, so it is found and refused device_not_installed). App starts
// and card swipes share this one check. A device's ports are in one of the two tables, by its kind.
constexpr const char* kSelectSocket =
    "SELECT d.kind, s.enabled = 1 AND " PILEHUB_DEVICE_IN_SERVICE_SQL(d) " AND " PILEHUB_STATION_IN_SERVICE_SQL(
        st) ", "
            "coalesce(d.station_id, 0), d.area_id, s.socket_overload_w, d.lifecycle = 'installed' "
            "FROM sockets s JOIN devices d ON d.id = s.device_id LEFT JOIN stations st ON st.id = d.station_id "
            "WHERE s.device_id = ?1 AND s.n = ?2 "
            "UNION ALL "
            "SELECT d.kind, g.enabled = 1 AND " PILEHUB_DEVICE_IN_SERVICE_SQL(d) " AND " PILEHUB_STATION_IN_SERVICE_SQL(
                st) ", "
                    "coalesce(d.station_id, 0), d.area_id, g.max_power_w, d.lifecycle = 'installed' "
                    "FROM guns g JOIN devices d ON d.id = g.device_id LEFT JOIN stations st ON st.id = d.station_id "
                    "WHERE g.device_id = ?1 AND g.n = ?2";

constexpr const char* kSelectOpenFault =
    "SELECT 1 FROM fault_records WHERE device_id = ?1 AND (n = ?2 OR n = 0) AND cleared_at IS NULL LIMIT 1";

constexpr const char* kSelectCard = "SELECT card_no, account_id, status FROM cards WHERE card_no = ?1";

constexpr const char* kSelectPresence = "SELECT online FROM device_presence WHERE device_id = ?1";
constexpr const char* kSelectDevice = "SELECT 1 FROM devices WHERE id = ?1";
constexpr const char* kSetMeterStart =
    "UPDATE sessions SET meter_start_wh = ?2, updated_at = ?3 WHERE id = ?1 AND meter_start_wh IS NULL";
constexpr const char* kSelectDeviceKind = "SELECT kind FROM devices WHERE id = ?1";

constexpr const char* kSelectProcessed =
    "SELECT 1 FROM processed_messages WHERE consumer = ?1 AND device_id = ?2 AND msg_id = ?3";
constexpr const char* kInsertProcessed = "INSERT INTO processed_messages (consumer, device_id, msg_id, processed_at) "
                                         "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";

constexpr const char* kSelectEnteredAt = "SELECT max(at) FROM session_events WHERE session_id = ?1 AND to_state = ?2";
constexpr const char* kInsertIncident =
    "INSERT INTO incidents (kind, device_id, session_id, detail, at) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kSelectIncidents =
    "SELECT kind, device_id, session_id, detail, at FROM incidents WHERE session_id = ?1 ORDER BY id";

constexpr const char* kInsertSession =
    "INSERT INTO sessions (id, account_id, method, card_no, device_id, n, station_id, mode, minutes, tariff_id, "
    "state, created_at, cmd_rid, cmd_exp, updated_at, max_fen, meter_start_wh, operator_name) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'starting', ?11, ?12, ?13, ?11, ?14, ?15, ?16)";

constexpr const char* kLogCommandSent =
    "INSERT INTO device_commands (device_id, name, n, rid, payload, requested_by, sid, sent_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (rid) DO NOTHING";
constexpr const char* kLogCommandAnswered =
    "UPDATE device_commands SET reply_status = ?2, reply = ?3, outcome = ?4, "
    "replied_at = CASE WHEN ?2 IS NULL THEN NULL ELSE ?5 END, "
    "latency_ms = CASE WHEN ?2 IS NULL THEN NULL ELSE MAX(0, ?5 - sent_at) END WHERE rid = ?1";

constexpr const char* kInsertEvent =
    "INSERT INTO session_events (session_id, at, from_state, to_state, reason, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

// One conditional transition: the row must still be in the state the decision was made on, and a
// record is committed only into a row that has none (so a session ends exactly once).
constexpr const char* kUpdateTransition = R"(UPDATE sessions SET
    state          = ?3,
    stop_requested = COALESCE(stop_requested, ?4),
    stop_requested_at = CASE WHEN stop_requested IS NULL AND ?4 IS NOT NULL THEN ?15 ELSE stop_requested_at END,
    failure        = COALESCE(?5, failure),
    started_at     = COALESCE(started_at, ?6),
    stop_reason    = CASE WHEN ?7 THEN ?8 ELSE stop_reason END,
    energy_wh      = CASE WHEN ?7 THEN ?9 ELSE energy_wh END,
    duration_s     = CASE WHEN ?7 THEN ?10 ELSE duration_s END,
    max_power_w    = CASE WHEN ?7 THEN ?11 ELSE max_power_w END,
    ended_at       = CASE WHEN ?7 THEN ?12 WHEN ?3 = 'failed' THEN ?15 ELSE ended_at END,
    record_msg_id  = CASE WHEN ?7 THEN ?13 ELSE record_msg_id END,
    cmd_rid        = CASE ?14 WHEN 0 THEN cmd_rid WHEN 1 THEN NULL ELSE ?16 END,
    cmd_exp        = CASE ?14 WHEN 0 THEN cmd_exp WHEN 1 THEN NULL ELSE ?17 END,
    meter_start_wh = COALESCE(meter_start_wh, ?18),
    meter_stop_wh  = CASE WHEN ?7 THEN ?19 ELSE meter_stop_wh END,
    updated_at     = ?15
WHERE id = ?1 AND state = ?2 AND (NOT ?7 OR record_msg_id IS NULL))";

// An EV gun that reports only its meter register: the session's energy is its rise since meter_start_wh.
constexpr const char* kUpdateReport = R"(UPDATE sessions SET
    energy_wh      = MAX(energy_wh, COALESCE(?3, CASE WHEN ?7 >= meter_start_wh THEN ?7 - meter_start_wh END, 0)),
    soc_pct        = COALESCE(?8, soc_pct),
    last_power_w   = ?4,
    max_power_w    = MAX(max_power_w, ?6),
    last_report_at = ?5,
    updated_at     = ?5
WHERE id = ?1 AND device_id = ?2 AND record_msg_id IS NULL
  AND state IN )" PILEHUB_TAKES_REPORTS_SQL;

std::string with_columns(const char* sql) {
    std::string s(sql);
    s.replace(s.find("{}"), 2, kSessionColumns);
    return s;
}

SessionRow read_row(const db::Statement& q) {
    SessionRow r;
    r.id = q.text(0);
    r.account_id = q.opt_int64(1).value_or(0);
    r.method = q.text(2);
    r.card_no = q.opt_text(3);
    r.device_id = q.text(4);
    r.n = static_cast<int>(q.int64(5));
    r.station_id = q.int64(6);
    r.mode = q.text(7);
    r.minutes = q.opt_int64(8);
    r.tariff_id = q.opt_int64(9);
    r.state = svc::parse_session_state(q.text(10)).value_or(State::Failed);
    r.stop_reason = q.opt_text(11);
    r.stop_requested = q.opt_text(12);
    r.failure = q.opt_text(13);
    r.created_at = q.int64(14);
    r.started_at = q.opt_int64(15);
    r.ended_at = q.opt_int64(16);
    r.energy_wh = q.int64(17);
    r.duration_s = q.int64(18);
    r.max_power_w = q.int64(19);
    r.last_power_w = q.int64(20);
    r.last_report_at = q.opt_int64(21);
    r.record_msg_id = q.opt_text(22);
    r.cost_fen = q.opt_int64(23);
    r.cmd_rid = q.opt_text(24);
    r.cmd_exp = q.opt_int64(25);
    r.updated_at = q.int64(26);
    r.stop_requested_at = q.opt_int64(27);
    r.max_fen = q.opt_int64(28);
    r.meter_start_wh = q.opt_int64(29);
    r.meter_stop_wh = q.opt_int64(30);
    if (const auto soc = q.opt_int64(31))
        r.soc_pct = static_cast<int>(*soc);
    r.operator_name = q.opt_text(32);
    return r;
}

std::vector<SessionRow> read_rows(db::Statement& q) {
    std::vector<SessionRow> out;
    while (q.step())
        out.push_back(read_row(q));
    return out;
}

void insert_event(db::Database& db, const std::string& sid, EpochMs at, std::optional<State> from, State to,
                  const std::string& reason, const std::string& actor) {
    db::Statement q(db, kInsertEvent);
    q.bind(1, sid).bind(2, at);
    if (from)
        q.bind(3, to_string(*from));
    else
        q.bind_null(3);
    q.bind(4, to_string(to)).bind(5, reason).bind(6, actor);
    q.run();
}

void insert_incident(db::Database& db, const Incident& i) {
    db::Statement q(db, kInsertIncident);
    q.bind(1, i.kind).bind(2, i.device_id).bind(3, i.session_id).bind(4, i.detail).bind(5, i.at);
    q.run();
}

/// Records `key` inside the open transaction; false if it was there already.
bool insert_processed(db::Database& db, const MessageKey& key, EpochMs now) {
    db::Statement q(db, kInsertProcessed);
    q.bind_all(std::string(kConsumer), key.device_id, key.msg_id, now);
    return q.run() == 1;
}

} // namespace

std::optional<SessionRow> Store::session(const std::string& id) {
    db::Statement q(db_, with_columns(kSelectSession));
    q.bind(1, id);
    if (!q.step())
        return std::nullopt;
    return read_row(q);
}

std::vector<SessionRow> Store::open_sessions() {
    db::Statement q(db_, with_columns(kSelectOpen));
    return read_rows(q);
}

std::optional<SessionRow> Store::live_on_socket(const std::string& device_id, int n) {
    db::Statement q(db_, with_columns(kSelectLiveOnSocket));
    q.bind(1, device_id).bind(2, n);
    if (!q.step())
        return std::nullopt;
    return read_row(q);
}

std::vector<SessionRow> Store::live_on_device(const std::string& device_id) {
    db::Statement q(db_, with_columns(kSelectLiveOnDevice));
    q.bind(1, device_id);
    return read_rows(q);
}

bool Store::has_live_method(std::int64_t account_id, const std::string& method) {
    db::Statement q(db_, kSelectLiveMethod);
    q.bind(1, account_id).bind(2, method);
    return q.step();
}

std::optional<SocketInfo> Store::socket(const std::string& device_id, int n) {
    db::Statement q(db_, kSelectSocket);
    q.bind(1, device_id).bind(2, n);
    if (!q.step())
        return std::nullopt;
    SocketInfo s;
    s.device_id = device_id;
    s.n = n;
    s.kind = q.text(0);
    s.enabled = q.int64(1) != 0;
    s.station_id = q.int64(2);
    s.area_id = q.opt_int64(3);
    s.rated_power_w = q.opt_int64(4);
    s.installed = q.int64(5) != 0;
    return s;
}

bool Store::has_open_fault(const std::string& device_id, int n) {
    db::Statement q(db_, kSelectOpenFault);
    q.bind(1, device_id).bind(2, n);
    return q.step();
}

std::optional<CardInfo> Store::card(const std::string& card_no) {
    db::Statement q(db_, kSelectCard);
    q.bind(1, card_no);
    if (!q.step())
        return std::nullopt;
    return CardInfo{q.text(0), q.opt_int64(1), q.text(2)};
}

std::optional<bool> Store::presence(const std::string& device_id) {
    db::Statement q(db_, kSelectPresence);
    q.bind(1, device_id);
    if (!q.step())
        return std::nullopt;
    return q.int64(0) != 0;
}

bool Store::processed(const MessageKey& key) {
    db::Statement q(db_, kSelectProcessed);
    q.bind_all(std::string(kConsumer), key.device_id, key.msg_id);
    return q.step();
}

std::optional<std::string> Store::device_kind(const std::string& device_id) {
    db::Statement q(db_, kSelectDeviceKind);
    q.bind(1, device_id);
    if (!q.step())
        return std::nullopt;
    return q.text(0);
}

bool Store::device_exists(const std::string& device_id) {
    db::Statement q(db_, kSelectDevice);
    q.bind(1, device_id);
    return q.step();
}

std::optional<EpochMs> Store::entered_at(const std::string& sid, State state) {
    db::Statement q(db_, kSelectEnteredAt);
    q.bind(1, sid).bind(2, to_string(state));
    if (!q.step())
        return std::nullopt;
    return q.opt_int64(0);
}

std::vector<Incident> Store::incidents(const std::string& sid) {
    db::Statement q(db_, kSelectIncidents);
    q.bind(1, sid);
    std::vector<Incident> out;
    while (q.step())
        out.push_back({q.text(0), q.text(1), q.opt_text(2), q.text(3), q.int64(4)});
    return out;
}

CreateOutcome Store::create(const NewSession& s, const std::optional<MessageKey>& msg) {
    db::Transaction tx(db_);
    if (msg && !insert_processed(db_, *msg, s.created_at))
        return CreateOutcome::Duplicate;
    try {
        db::Statement q(db_, kInsertSession);
        q.bind(1, s.id)
            .bind(2, s.operator_name ? std::optional<std::int64_t>() : std::optional<std::int64_t>(s.account_id))
            .bind(3, s.method)
            .bind(4, s.card_no)
            .bind(5, s.device_id)
            .bind(6, s.n)
            .bind(7, s.station_id)
            .bind(8, s.mode)
            .bind(9, s.minutes)
            .bind(10, s.tariff_id)
            .bind(11, s.created_at)
            .bind(12, s.cmd_rid)
            .bind(13, s.cmd_exp)
            .bind(14, s.max_fen)
            .bind(15, s.meter_start_wh)
            .bind(16, s.operator_name);
        q.run();
    } catch (const db::Error& e) {
        if (!e.is_constraint())
            throw;
        // Which partial unique index refused it decides the refusal code.
        return live_on_socket(s.device_id, s.n) ? CreateOutcome::SocketTaken : CreateOutcome::MethodTaken;
    }
    insert_event(db_, s.id, s.created_at, std::nullopt, State::Starting, s.reason, s.actor);
    tx.commit();
    return CreateOutcome::Created;
}

Applied Store::apply(const Change& c) {
    db::Transaction tx(db_);
    if (c.msg && !insert_processed(db_, *c.msg, c.at))
        return Applied::Duplicate;
    db::Statement q(db_, kUpdateTransition);
    q.bind(1, c.sid).bind(2, to_string(c.from)).bind(3, to_string(c.to));
    q.bind(4, c.stop_requested).bind(5, c.failure).bind(6, c.started_at);
    q.bind(7, c.record ? 1 : 0);
    if (c.record) {
        q.bind(8, c.record->stop_reason)
            .bind(9, c.record->energy_wh)
            .bind(10, c.record->duration_s)
            .bind(11, c.record->max_power_w)
            .bind(12, c.record->ended_at)
            .bind(13, c.record->msg_id);
        if (c.record->started_at)
            q.bind(6, c.started_at.value_or(*c.record->started_at));
    } else {
        q.bind_null(8).bind_null(9).bind_null(10).bind_null(11).bind_null(12).bind_null(13);
    }
    q.bind(14, c.command == CommandChange::Keep ? 0 : c.command == CommandChange::Clear ? 1 : 2);
    q.bind(15, c.at);
    q.bind(16, c.cmd_rid).bind(17, c.cmd_exp);
    q.bind(18, c.record ? c.record->meter_start_wh : std::nullopt);
    q.bind(19, c.record ? c.record->meter_stop_wh : std::nullopt);
    if (q.run() != 1)
        return Applied::Stale; // rolled back: the caller re-reads and decides again
    insert_event(db_, c.sid, c.at, c.from, c.to, c.reason, c.actor);
    if (c.incident)
        insert_incident(db_, *c.incident);
    tx.commit();
    return Applied::Done;
}

void Store::set_meter_start(const std::string& sid, std::int64_t meter_start_wh, EpochMs now) {
    db::Transaction tx(db_);
    db::Statement q(db_, kSetMeterStart);
    q.bind_all(sid, meter_start_wh, now);
    q.run();
    tx.commit();
}

bool Store::mark_processed(const MessageKey& key, EpochMs now) {
    db::Transaction tx(db_);
    const bool fresh = insert_processed(db_, key, now);
    tx.commit();
    return fresh;
}

void Report::merge(const Report& later) {
    if (later.energy_wh)
        energy_wh = std::max(energy_wh.value_or(0), *later.energy_wh);
    if (later.register_wh)
        register_wh = std::max(register_wh.value_or(0), *later.register_wh);
    if (later.soc_pct)
        soc_pct = later.soc_pct;
    power_w = later.power_w;
    max_power_w = std::max({max_power_w, later.max_power_w, later.power_w});
    at = std::max(at, later.at);
}

int Store::report(const std::vector<Report>& reports) {
    if (reports.empty())
        return 0;
    db::Transaction tx(db_);
    db::Statement q(db_, kUpdateReport);
    int changed = 0;
    for (const auto& r : reports) {
        q.reset();
        q.bind_all(r.sid, r.device_id, r.energy_wh, r.power_w, r.at, std::max(r.max_power_w, r.power_w), r.register_wh,
                   r.soc_pct ? std::optional<std::int64_t>(*r.soc_pct) : std::nullopt);
        changed += q.run();
    }
    tx.commit();
    return changed;
}

void Store::log_commands(const std::vector<CommandLogEntry>& entries) {
    if (entries.empty())
        return;
    db::Transaction tx(db_);
    db::Statement sent(db_, kLogCommandSent);
    db::Statement answered(db_, kLogCommandAnswered);
    for (const auto& e : entries) {
        if (const auto* s = std::get_if<CommandSent>(&e)) {
            sent.reset();
            sent.bind_all(s->device_id, s->name, s->n ? std::optional<std::int64_t>(*s->n) : std::nullopt, s->rid,
                          s->payload, s->requested_by, s->sid, s->at);
            sent.run();
        } else {
            const auto& a = std::get<CommandAnswered>(e);
            answered.reset();
            answered.bind_all(a.rid, a.status, a.reply, a.outcome, a.at);
            answered.run();
        }
    }
    tx.commit();
}

} // namespace pilehub::sessiond
