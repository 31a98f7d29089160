#pragma once
#include "billingd_rules.hpp"

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"
#include "common/tariff_store.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

/// billingd's SQL: sessions (read; completed by settlement), tariffs (read), session_samples in
/// the telemetry database (read), and the settlement transaction (ledger, wallet, sessions,
/// session_events, settlements).
namespace pilehub::billing {

/// What settle() did.
struct Settled {
    enum class Outcome {
        Settled, ///< committed: ledger entry, wallet, cost_fen, completed, event, settlements row
        NotDue,  ///< nothing changed: already settled, or no longer stopping/settling with a record
    };
    Outcome outcome = Outcome::NotDue;
    std::string from_state;
    Fen priced_fen;
    Fen cost_fen; ///< what was debited (= sessions.cost_fen)
    Fen shortfall_fen;
    std::optional<ledger::Entry> entry;
    EpochMs at = 0;
};

class Store {
public:
    /// `core` must be a db::Sync::Full connection (money); `telemetry` may be Normal.
    Store(db::Database& core, db::Database& telemetry, const Clock& clock, std::string actor = "billingd");

    /// Settleable sessions (record committed, stopping or settling, no cost), oldest first; whether
    /// their telemetry allows settling them yet is due_for_settlement's decision.
    std::vector<SessionFacts> due_sessions(int limit);
    std::optional<SessionFacts> session(const std::string& sid);
    /// Charging sessions (started, no record yet): what the running cost is published for.
    std::vector<LiveSession> live_sessions();
    /// One session if it is live, with what its tariff lookup needs.
    std::optional<LiveSession> live_session(const std::string& sid);
    /// The version that prices a session (TariffStore::for_session: the lookup sessiond and
    /// autostopd share).
    TariffChoice tariff_for_session(const std::string& sid);
    /// The recorded power curve of a session, by time.
    std::vector<Sample> samples(const std::string& sid);
    /// The wallet of an account (zeros for an unknown one).
    WalletView wallet(std::int64_t account_id);

    /// The settlement, in one transaction: the ledger entry `settle:<sid>` (a partial debit of
    /// plan.priced_fen: the shortfall rule), the wallet, `sessions.cost_fen` and `completed` (only
    /// if still unsettled), a session_events row and the settlements row. `order` overrides the
    /// account's debit order.
    Settled settle(const SessionFacts& s, const SettlementPlan& plan, std::optional<ledger::DebitOrder> order);

private:
    db::Database& core_;
    db::Database& telemetry_;
    const Clock& clock_;
    std::string actor_;
    ledger::Ledger ledger_;
    TariffStore tariffs_;
};

} // namespace pilehub::billing
