#include "billingd_store.hpp"

#include "common/arrears.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pilehub::billing {
namespace {

constexpr std::string_view kSessionColumns =
    "SELECT id, account_id, station_id, state, mode, minutes, tariff_id, created_at, started_at, ended_at, "
    "energy_wh, duration_s, max_power_w, coalesce(stop_reason, ''), record_msg_id, cost_fen, updated_at, "
    "stop_requested_at, device_id, n, method, max_fen, meter_start_wh, meter_stop_wh FROM sessions ";
constexpr std::string_view kDueWhere = "WHERE record_msg_id IS NOT NULL AND cost_fen IS NULL "
                                       "AND state IN " PILEHUB_AWAITS_SETTLEMENT_SQL " ORDER BY updated_at, id LIMIT ?";
constexpr std::string_view kLiveColumns =
    "SELECT id, account_id, mode, minutes, started_at, device_id, n, max_fen FROM sessions "
    "WHERE state = 'charging' AND started_at IS NOT NULL AND record_msg_id IS NULL AND method <> 'operator' ";
constexpr std::string_view kSamples =
    "SELECT t, energy_wh, power_w FROM session_samples WHERE session_id = ? ORDER BY t";
constexpr std::string_view kCompleteSession =
    "UPDATE sessions SET cost_fen = ?, state = 'completed', updated_at = ? "
    "WHERE id = ? AND cost_fen IS NULL AND record_msg_id IS NOT NULL AND state IN " PILEHUB_AWAITS_SETTLEMENT_SQL;
constexpr std::string_view kStateOf = "SELECT state FROM sessions WHERE id = ?";
constexpr std::string_view kInsertEvent = "INSERT INTO session_events (session_id, at, from_state, to_state, reason, "
                                          "actor) VALUES (?, ?, ?, 'completed', ?, ?)";
constexpr std::string_view kInsertSettlement =
    "INSERT INTO settlements (session_id, account_id, ledger_id, tariff_id, priced_fen, debited_fen, shortfall_fen, "
    "electricity_fen, service_fen, bill, note, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

SessionFacts read_session(const db::Statement& st) {
    SessionFacts s;
    s.id = st.text(0);
    s.account_id = st.opt_int64(1).value_or(0); // NULL: an operator's session
    s.station_id = st.int64(2);
    // The column's CHECK admits the state words only.
    s.state = svc::parse_session_state(st.text(3)).value_or(svc::SessionState::Failed);
    s.mode = st.text(4);
    s.minutes = st.opt_int64(5);
    s.tariff_id = st.opt_int64(6);
    s.created_at = st.int64(7);
    s.started_at = st.opt_int64(8);
    s.ended_at = st.opt_int64(9);
    s.energy_wh = st.int64(10);
    s.duration_s = st.int64(11);
    s.max_power_w = st.int64(12);
    s.stop_reason = st.text(13);
    s.record_msg_id = st.opt_text(14);
    s.cost_fen = st.opt_int64(15);
    s.committed_at = st.int64(16);
    s.stop_requested_at = st.opt_int64(17);
    s.device_id = st.text(18);
    s.n = static_cast<int>(st.int64(19));
    s.method = svc::parse_session_method(st.text(20)).value_or(svc::SessionMethod::App);
    if (const auto max_fen = st.opt_int64(21))
        s.max_fen = Fen(*max_fen);
    s.meter_start_wh = st.opt_int64(22);
    s.meter_stop_wh = st.opt_int64(23);
    return s;
}

LiveSession read_live(const db::Statement& st) {
    LiveSession s;
    s.id = st.text(0);
    s.account_id = st.int64(1);
    s.mode = st.text(2);
    s.minutes = st.opt_int64(3);
    s.start_ms = st.int64(4);
    s.device_id = st.text(5);
    s.n = static_cast<int>(st.int64(6));
    if (const auto max_fen = st.opt_int64(7))
        s.max_fen = Fen(*max_fen);
    return s;
}

} // namespace

Store::Store(db::Database& core, db::Database& telemetry, const Clock& clock, std::string actor)
    : core_(core), telemetry_(telemetry), clock_(clock), actor_(std::move(actor)), ledger_(core, clock),
      tariffs_(core) {}

std::vector<SessionFacts> Store::due_sessions(int limit) {
    db::Statement st(core_, std::string(kSessionColumns) + std::string(kDueWhere));
    st.bind(1, std::int64_t{limit});
    std::vector<SessionFacts> out;
    while (st.step())
        out.push_back(read_session(st));
    return out;
}

std::optional<SessionFacts> Store::session(const std::string& sid) {
    db::Statement st(core_, std::string(kSessionColumns) + "WHERE id = ?");
    st.bind(1, sid);
    if (!st.step())
        return std::nullopt;
    return read_session(st);
}

std::vector<LiveSession> Store::live_sessions() {
    db::Statement st(core_, kLiveColumns);
    std::vector<LiveSession> out;
    while (st.step())
        out.push_back(read_live(st));
    return out;
}

std::optional<LiveSession> Store::live_session(const std::string& sid) {
    db::Statement st(core_, std::string(kLiveColumns) + "AND id = ?");
    st.bind(1, sid);
    if (!st.step())
        return std::nullopt;
    return read_live(st);
}

TariffChoice Store::tariff_for_session(const std::string& sid) {
    return tariffs_.for_session(sid);
}

std::vector<Sample> Store::samples(const std::string& sid) {
    db::Statement st(telemetry_, kSamples);
    st.bind(1, sid);
    std::vector<Sample> out;
    while (st.step())
        out.push_back(Sample{st.int64(0), st.int64(1), st.int64(2)});
    return out;
}

WalletView Store::wallet(std::int64_t account_id) {
    const auto w = ledger_.wallet(account_id);
    if (!w)
        return {};
    return {w->balance_fen, w->bonus_fen};
}

Settled Store::settle(const SessionFacts& s, const SettlementPlan& plan, std::optional<ledger::DebitOrder> order) {
    Settled r;
    r.at = clock_.now_ms();
    db::Transaction tx(core_);
    {
        db::Statement st(core_, kStateOf);
        st.bind(1, s.id);
        if (!st.step())
            return r;
        r.from_state = st.text(0);
    }
    // Re-read under the write lock: another billingd (or an earlier run of this one) may have
    // settled it since it was priced.
    const auto now_facts = session(s.id);
    if (!now_facts || !settleable(*now_facts))
        return r;
    if (!plan.charges_wallet) {
        // Commissioning: completed at 0 fen; no wallet, so no ledger entry and no settlements row.
        if (db::Statement(core_, kCompleteSession).bind_all(std::int64_t{0}, r.at, s.id).run() != 1)
            return r;
        db::Statement(core_, kInsertEvent).bind_all(s.id, r.at, r.from_state, s.stop_reason, actor_).run();
        tx.commit();
        r.outcome = Settled::Outcome::Settled;
        return r;
    }

    ledger::Debit d;
    d.account_id = s.account_id;
    d.amount_fen = plan.priced_fen;
    d.kind = ledger::Kind::Charge;
    d.meta.idempotency_key = "settle:" + s.id;
    d.meta.ref = s.id;
    d.meta.operator_name = actor_;
    d.order = order;
    d.partial = true;
    if (const auto w = ledger_.wallet(s.account_id)) {
        const auto a = settle_amounts(plan.priced_fen, w->available());
        if (a.shortfall_fen > Fen(0))
            d.meta.note =
                fmt::format("bill {} fen, wallet short by {} fen", plan.priced_fen.value(), a.shortfall_fen.value());
    }
    auto posting = ledger_.debit(tx, d);
    if (!posting.ok() || !posting.entry)
        throw db::Error(fmt::format("settlement of {}: ledger refused: {}", s.id, ledger::to_string(posting.outcome)),
                        SQLITE_ERROR);
    // A Duplicate here means the key exists although the session is unsettled (written by hand?):
    // complete the session with what that entry debited, so cost_fen and the ledger still agree.
    const Fen debited = posting.entry->debited();
    r.priced_fen = plan.priced_fen;
    r.cost_fen = debited;
    r.shortfall_fen = std::max(Fen(0), plan.priced_fen - debited);
    if (debited > plan.priced_fen)
        r.priced_fen = debited;

    const int changed = db::Statement(core_, kCompleteSession).bind_all(debited.value(), r.at, s.id).run();
    if (changed != 1)
        return r; // rolled back
    db::Statement(core_, kInsertEvent).bind_all(s.id, r.at, r.from_state, s.stop_reason, actor_).run();
    std::string note = plan.note;
    if (r.shortfall_fen > Fen(0))
        note += fmt::format("{}shortfall {} fen: the wallet held less than the bill; owed as arrears",
                            note.empty() ? "" : "; ", r.shortfall_fen.value());
    // The split of what is recorded as priced: the plan's, with anything debited beyond it (an entry
    // written by hand, above) counted as service, so electricity + service = priced_fen always.
    const Fen electricity = std::clamp(plan.electricity_fen, Fen(0), r.priced_fen);
    db::Statement(core_, kInsertSettlement)
        .bind_all(s.id, s.account_id, posting.entry->id, plan.tariff_id, r.priced_fen.value(), debited.value(),
                  r.shortfall_fen.value(), electricity.value(), (r.priced_fen - electricity).value(), plan.bill_json,
                  note, r.at)
        .run();
    // The uncovered part is not written off: the account owes it (BILLING §5), paid from its next money.
    arrears::add_shortfall(core_, s.account_id, r.shortfall_fen);
    tx.commit();
    r.outcome = Settled::Outcome::Settled;
    r.entry = std::move(posting.entry);
    return r;
}

} // namespace pilehub::billing
