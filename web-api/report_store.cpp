#include "web-api/report_store.hpp"

namespace pilehub::api {
namespace {

// ?1 from, ?2 to, ?3 the stations in scope as a JSON array (NULL: every station).
constexpr const char* kLedgerFigures =
    "SELECT coalesce(sum(CASE WHEN l.kind = 'recharge' THEN l.real_fen END), 0), "
    "coalesce(sum(CASE WHEN l.kind IN ('recharge', 'bonus') THEN l.bonus_fen END), 0), "
    "coalesce(sum(CASE WHEN l.kind = 'refund' THEN -l.real_fen END), 0), "
    "coalesce(sum(CASE WHEN l.kind = 'card_fee' THEN -l.real_fen END), 0) "
    "FROM ledger l JOIN accounts a ON a.id = l.account_id WHERE l.at >= ?1 AND l.at < ?2 AND l.kind IN ('recharge', "
    "'bonus', 'refund', 'card_fee') AND (?3 IS NULL OR a.home_station_id IN (SELECT value FROM json_each(?3)))";
constexpr const char* kChargeFigures =
    "SELECT coalesce(sum(-(l.real_fen + l.bonus_fen)), 0), coalesce(sum(-l.real_fen), 0) FROM ledger l "
    "LEFT JOIN sessions s ON s.id = l.ref WHERE l.kind = 'charge' AND l.at >= ?1 AND l.at < ?2 AND "
    "(?3 IS NULL OR s.station_id IN (SELECT value FROM json_each(?3)))";
// A parking fee counts for the station of the stay it paid (occupancies.ledger_id).
constexpr const char* kParkingFigures =
    "SELECT coalesce(sum(-(l.real_fen + l.bonus_fen)), 0) FROM ledger l LEFT JOIN occupancies o ON o.ledger_id = l.id "
    "WHERE l.kind = 'parking' AND l.at >= ?1 AND l.at < ?2 AND (?3 IS NULL OR o.station_id IN (SELECT value FROM "
    "json_each(?3)))";
constexpr const char* kSessionFigures =
    "SELECT coalesce(sum(energy_wh), 0), count(*), coalesce(sum(duration_s), 0) FROM sessions WHERE state = "
    "'completed' "
    "AND ended_at >= ?1 AND ended_at < ?2 AND (?3 IS NULL OR station_id IN (SELECT value FROM json_each(?3)))";
// The same figures per vehicle kind: 'ev' for a session at an EV charger, else 'ebike'.
constexpr const char* kChargeByKind =
    "SELECT CASE WHEN d.kind = 'ev_charger' THEN 'ev' ELSE 'ebike' END AS k, coalesce(sum(-(l.real_fen + "
    "l.bonus_fen)), 0) FROM ledger l LEFT JOIN sessions s ON s.id = l.ref LEFT JOIN devices d ON d.id = s.device_id "
    "WHERE l.kind = 'charge' AND l.at >= ?1 AND l.at < ?2 AND (?3 IS NULL OR s.station_id IN (SELECT value FROM "
    "json_each(?3))) GROUP BY k";
constexpr const char* kSessionsByKind =
    "SELECT CASE WHEN d.kind = 'ev_charger' THEN 'ev' ELSE 'ebike' END AS k, coalesce(sum(s.energy_wh), 0), "
    "count(*), coalesce(sum(s.duration_s), 0) FROM sessions s LEFT JOIN devices d ON d.id = s.device_id WHERE "
    "s.state = 'completed' AND s.ended_at >= ?1 AND s.ended_at < ?2 AND (?3 IS NULL OR s.station_id IN (SELECT "
    "value FROM json_each(?3))) GROUP BY k";
constexpr const char* kNewAccounts =
    "SELECT count(*) FROM accounts WHERE created_at >= ?1 AND created_at < ?2 AND (?3 IS NULL OR home_station_id IN "
    "(SELECT value FROM json_each(?3)))";
constexpr const char* kTopRiders =
    "SELECT a.id, a.phone, a.name, coalesce(sum(-(l.real_fen + l.bonus_fen)), 0) AS spent, count(s.id), "
    "coalesce(sum(s.energy_wh), 0) FROM ledger l JOIN accounts a ON a.id = l.account_id LEFT JOIN sessions s ON "
    "s.id = l.ref WHERE l.kind = 'charge' AND l.at >= ?1 AND l.at < ?2 AND (?3 IS NULL OR s.station_id IN (SELECT "
    "value "
    "FROM json_each(?3))) GROUP BY a.id ORDER BY spent DESC, a.id LIMIT ?4";

void bind_period(db::Statement& st, EpochMs from, EpochMs to, const std::optional<std::string>& scope) {
    st.bind(1, from);
    st.bind(2, to);
    st.bind(3, scope);
}

} // namespace

std::optional<std::string> scope_json(const std::optional<std::set<std::int64_t>>& scope,
                                      std::optional<std::int64_t> station_id) {
    if (!scope && !station_id)
        return std::nullopt;
    std::string out = "[";
    bool first = true;
    auto add = [&](std::int64_t id) {
        if (!first)
            out += ",";
        out += std::to_string(id);
        first = false;
    };
    if (station_id) {
        if (!scope || scope->count(*station_id))
            add(*station_id);
    } else {
        for (auto id : *scope)
            add(id);
    }
    return out + "]";
}

Figures ReportStore::figures(EpochMs from, EpochMs to, const std::optional<std::set<std::int64_t>>& scope,
                             std::optional<std::int64_t> station_id) {
    const auto sj = scope_json(scope, station_id);
    Figures f;
    {
        db::Statement st(db_, kLedgerFigures);
        bind_period(st, from, to, sj);
        st.step();
        f.recharge_fen = st.int64(0);
        f.bonus_given_fen = st.int64(1);
        f.refund_fen = st.int64(2);
        f.card_fee_fen = st.int64(3);
    }
    {
        db::Statement st(db_, kChargeFigures);
        bind_period(st, from, to, sj);
        st.step();
        f.charge_fen = st.int64(0);
        f.charge_real_fen = st.int64(1);
    }
    {
        db::Statement st(db_, kParkingFigures);
        bind_period(st, from, to, sj);
        st.step();
        f.parking_fen = st.int64(0);
    }
    {
        db::Statement st(db_, kSessionFigures);
        bind_period(st, from, to, sj);
        st.step();
        f.energy_wh = st.int64(0);
        f.sessions = st.int64(1);
        f.charging_s = st.int64(2);
    }
    {
        db::Statement st(db_, kNewAccounts);
        bind_period(st, from, to, sj);
        st.step();
        f.new_accounts = st.int64(0);
    }
    return f;
}

FiguresByKind ReportStore::figures_by_kind(EpochMs from, EpochMs to, const std::optional<std::set<std::int64_t>>& scope,
                                           std::optional<std::int64_t> station_id) {
    const auto sj = scope_json(scope, station_id);
    FiguresByKind f;
    auto of = [&f](const std::string& kind) -> KindFigures& { return kind == "ev" ? f.ev : f.ebike; };
    {
        db::Statement st(db_, kChargeByKind);
        bind_period(st, from, to, sj);
        while (st.step())
            of(st.text(0)).charge_fen = st.int64(1);
    }
    {
        db::Statement st(db_, kSessionsByKind);
        bind_period(st, from, to, sj);
        while (st.step()) {
            auto& k = of(st.text(0));
            k.energy_wh = st.int64(1);
            k.sessions = st.int64(2);
            k.charging_s = st.int64(3);
        }
    }
    return f;
}

std::vector<TopRider> ReportStore::top_riders(EpochMs from, EpochMs to,
                                              const std::optional<std::set<std::int64_t>>& scope,
                                              std::optional<std::int64_t> station_id, int limit) {
    std::vector<TopRider> out;
    db::Statement st(db_, kTopRiders);
    bind_period(st, from, to, scope_json(scope, station_id));
    st.bind(4, limit);
    while (st.step())
        out.push_back(TopRider{st.int64(0), st.text(1), st.text(2), st.int64(3), st.int64(4), st.int64(5)});
    return out;
}

} // namespace pilehub::api
