#include "web-api/session_store.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace pilehub::api {
namespace {

constexpr const char* kSessionCols =
    "SELECT s.id, s.account_id, s.method, s.card_no, s.device_id, s.n, s.station_id, s.mode, s.minutes, s.tariff_id, "
    "s.state, s.stop_reason, s.stop_requested, s.failure, s.created_at, s.started_at, s.ended_at, s.energy_wh, "
    "s.duration_s, s.max_power_w, s.last_power_w, s.last_report_at, s.cost_fen, s.updated_at, a.phone, "
    "s.max_fen, s.soc_pct, (SELECT d.kind FROM devices d WHERE d.id = s.device_id), x.electricity_fen, x.service_fen, "
    "s.operator_name "
    "FROM sessions s LEFT JOIN accounts a ON a.id = s.account_id LEFT JOIN settlements x ON x.session_id = s.id ";
constexpr const char* kSessionFilter =
    "WHERE (?1 IS NULL OR s.account_id = ?1) AND (?2 IS NULL OR s.station_id = ?2) AND (?3 = '' OR s.device_id = ?3) "
    "AND (?4 = '' OR s.state = ?4 OR (?4 = 'active' AND s.state IN " PILEHUB_HOLDS_SOCKET_SQL
    ")) AND (?5 = '' OR s.method = ?5) AND (?6 IS NULL OR s.created_at >= ?6) AND (?7 IS NULL OR "
    "s.created_at < ?7) AND (?8 = '' OR (?8 = 'ev') = EXISTS (SELECT 1 FROM devices d WHERE d.id = s.device_id AND "
    "d.kind = 'ev_charger')) AND (?9 = '' OR a.phone = ?9) ORDER BY s.created_at DESC, s.id DESC";
constexpr const char* kEvents =
    "SELECT at, from_state, to_state, reason, actor FROM session_events WHERE session_id = ? ORDER BY id";
constexpr const char* kSettlement =
    "SELECT priced_fen, debited_fen, shortfall_fen, bill, note, settled_at FROM settlements WHERE session_id = ?";
constexpr const char* kDeviceHasSessions = "SELECT 1 FROM sessions WHERE device_id = ? LIMIT 1";
constexpr const char* kDeviceHasLiveSession =
    "SELECT 1 FROM sessions WHERE device_id = ? AND state IN " PILEHUB_HOLDS_SOCKET_SQL " LIMIT 1";
constexpr const char* kSamples = "SELECT t, power_w, energy_wh FROM session_samples WHERE session_id = ? ORDER BY t";

SessionRow read_session(db::Statement& st) {
    SessionRow s;
    s.id = st.text(0);
    s.account_id = st.opt_int64(1).value_or(0); // NULL: an operator's commissioning session
    s.method = st.text(2);
    s.card_no = st.opt_text(3);
    s.device_id = st.text(4);
    s.n = static_cast<int>(st.int64(5));
    s.station_id = st.int64(6);
    s.mode = st.text(7);
    s.minutes = st.opt_int64(8);
    s.tariff_id = st.opt_int64(9);
    const auto state = st.text(10);
    const auto parsed = svc::parse_session_state(state);
    if (!parsed) // the schema's CHECK allows only the svc words: a newer schema than this build
        throw std::runtime_error(fmt::format("session {} has the unknown state '{}'", s.id, state));
    s.state = *parsed;
    s.stop_reason = st.opt_text(11);
    s.stop_requested = st.opt_text(12);
    s.failure = st.opt_text(13);
    s.created_at = st.int64(14);
    s.started_at = st.opt_int64(15);
    s.ended_at = st.opt_int64(16);
    s.energy_wh = st.int64(17);
    s.duration_s = st.int64(18);
    s.max_power_w = st.int64(19);
    s.last_power_w = st.int64(20);
    s.last_report_at = st.opt_int64(21);
    s.cost_fen = st.opt_int64(22);
    s.updated_at = st.int64(23);
    s.phone = st.opt_text(24).value_or("");
    s.max_fen = st.opt_int64(25);
    s.soc_pct = st.opt_int64(26);
    s.kind = st.opt_text(27).value_or("") == "ev_charger" ? "ev" : "ebike";
    s.electricity_fen = st.opt_int64(28);
    s.service_fen = st.opt_int64(29);
    s.operator_name = st.opt_text(30);
    return s;
}

} // namespace

std::optional<SessionRow> SessionStore::session(const std::string& id) {
    db::Statement st(db_, std::string(kSessionCols) + "WHERE s.id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_session(st);
}

std::vector<SessionRow> SessionStore::sessions(const SessionFilter& f) {
    std::vector<SessionRow> out;
    db::Statement st(db_, std::string(kSessionCols) + kSessionFilter);
    st.bind(1, f.account_id);
    st.bind(2, f.station_id);
    st.bind(3, f.device_id);
    st.bind(4, f.state);
    st.bind(5, f.method);
    st.bind(6, f.from);
    st.bind(7, f.to);
    st.bind(8, f.kind);
    st.bind(9, f.phone);
    std::int64_t skipped = 0;
    while (st.step()) {
        auto s = read_session(st);
        if (f.scope && !f.scope->count(s.station_id))
            continue;
        if (skipped < f.offset) {
            ++skipped;
            continue;
        }
        out.push_back(std::move(s));
        if (static_cast<std::int64_t>(out.size()) >= f.limit)
            break;
    }
    return out;
}

std::vector<SessionEventRow> SessionStore::events(const std::string& id) {
    std::vector<SessionEventRow> out;
    db::Statement st(db_, kEvents);
    st.bind_all(id);
    while (st.step())
        out.push_back(SessionEventRow{st.int64(0), st.opt_text(1), st.text(2), st.text(3), st.text(4)});
    return out;
}

std::optional<SettlementRow> SessionStore::settlement(const std::string& session_id) {
    db::Statement st(db_, kSettlement);
    st.bind_all(session_id);
    if (!st.step())
        return std::nullopt;
    return SettlementRow{st.int64(0), st.int64(1), st.int64(2), st.text(3), st.text(4), st.int64(5)};
}

bool SessionStore::device_has_sessions(const std::string& device_id) {
    db::Statement st(db_, kDeviceHasSessions);
    st.bind_all(device_id);
    return st.step();
}

bool SessionStore::device_has_live_session(const std::string& device_id) {
    db::Statement st(db_, kDeviceHasLiveSession);
    st.bind_all(device_id);
    return st.step();
}

std::vector<SampleRow> session_samples(db::Database& telemetry, const std::string& session_id, std::size_t max_points) {
    std::vector<SampleRow> all;
    db::Statement st(telemetry, kSamples);
    st.bind_all(session_id);
    while (st.step())
        all.push_back(SampleRow{st.int64(0), st.int64(1), st.int64(2)});
    if (all.size() <= max_points || max_points < 2)
        return all;
    std::vector<SampleRow> out;
    out.reserve(max_points);
    const double step = static_cast<double>(all.size() - 1) / static_cast<double>(max_points - 1);
    for (std::size_t i = 0; i < max_points; ++i)
        out.push_back(all[static_cast<std::size_t>(static_cast<double>(i) * step + 0.5)]);
    out.back() = all.back();
    return out;
}

} // namespace pilehub::api
