#pragma once
#include "common/clock.hpp"
#include "common/money.hpp"
#include "common/pricing.hpp"
#include "common/svc.hpp"
#include "common/tariff.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

/// billingd's decisions, pure: which sessions to settle and for how much, and the running cost
/// of live sessions (docs/wallets.md). No MQTT, HTTP or SQL here; time comes from a Clock.
namespace pilehub::billing {

/// A session as billingd reads it from the sessions row (written by sessiond).
struct SessionFacts {
    std::string id;
    std::int64_t account_id = 0;
    std::int64_t station_id = 0;
    svc::SessionState state = svc::SessionState::Starting;
    std::string mode; ///< wire name: time, power, energy
    std::optional<std::int64_t> minutes;
    std::optional<std::int64_t> tariff_id;
    EpochMs created_at = 0;
    std::optional<EpochMs> started_at;
    std::optional<EpochMs> ended_at;
    std::int64_t energy_wh = 0;   ///< from the pile's session record
    std::int64_t duration_s = 0;  ///< from the pile's session record
    std::int64_t max_power_w = 0; ///< from the pile's session record (or the highest report)
    std::string stop_reason;
    std::optional<std::string> record_msg_id;
    std::optional<std::int64_t> cost_fen;
    /// sessions.updated_at: for an ended session, when sessiond committed its record (the platform's
    /// clock; sessiond writes an ended row no more, so a later write can only make it later).
    EpochMs committed_at = 0;
    /// When the platform first asked the pile to stop (rider, operator, auto-stop; the platform's clock).
    std::optional<EpochMs> stop_requested_at;
    std::string device_id; ///< the socket the session ran on (for the `completed` transition)
    int n = 1;
    svc::SessionMethod method = svc::SessionMethod::App;
    std::optional<Fen> max_fen = std::nullopt; ///< the rider's prepaid amount (sessions.max_fen): bounds the bill
    /// An EV session's meter register at its start and stop (the charger's record). sessiond writes
    /// energy_wh = meter_stop_wh − meter_start_wh with them, and the bill takes energy_wh.
    std::optional<std::int64_t> meter_start_wh = std::nullopt;
    std::optional<std::int64_t> meter_stop_wh = std::nullopt;
};

/// Whether a session's row allows a settlement: its record is committed (record_msg_id set), it
/// awaits settlement (svc::awaits_settlement: `stopping` or `settling`), and it has no cost yet. The settlement
/// transaction re-checks this under the write lock.
bool settleable(const SessionFacts& s);

/// What billingd knows of a session's telemetry when it considers settling it: the time of the
/// latest sample stored in the telemetry database (nothing when none is).
struct TelemetryEvidence {
    std::optional<EpochMs> last_sample_ms;
};
TelemetryEvidence evidence_of(const std::vector<Sample>& recorded);

/// The time from which a settleable session is settled whatever its telemetry: committed_at +
/// settle_delay_ms (recorderd writes in batches, so the last reports may be stored after the record).
EpochMs settle_not_before(const SessionFacts& s, std::int64_t settle_delay_ms);

/// Whether a session is to be settled now: it is settleable, and its power curve is complete as
/// far as it will be: the telemetry database holds a sample at or after the record's stop time
/// (ended_at; recorderd stores a device's reports in order, so none before it is missing), or
/// settle_delay_ms has passed since the record was committed. A bill is then priced from the curve
/// that stays stored.
bool due_for_settlement(const SessionFacts& s, const Clock& clock, std::int64_t settle_delay_ms,
                        const TelemetryEvidence& telemetry);

/// The pricing window of an ended session. Start: started_at (else created_at). Stop: start +
/// the pile's duration_s when the record has one (the pile's own count, immune to clock skew
/// between platform and pile), else ended_at, else start; but never longer than the session had run
/// when the platform asked the pile to stop (stop_requested_at − created_at, both on the platform's
/// clock): a pile that obeyed late bills nothing after the request.
struct Window {
    EpochMs start_ms = 0;
    EpochMs stop_ms = 0;
    EpochMs pile_stop_ms = 0; ///< where the pile's record ends (= stop_ms unless cut at the stop request)
    bool cut_at_stop_request() const { return stop_ms < pile_stop_ms; }
};
Window settlement_window(const SessionFacts& s);

/// The session energy at `t` on the curve of `recorded` samples (by time) closed by the record's
/// final reading (`final_energy_wh` at `final_ms`): linear between the points around `t` (from 0
/// at `start_ms` before the first one), never falling, never above the final reading.
std::int64_t energy_at(const std::vector<Sample>& recorded, EpochMs start_ms, EpochMs final_ms,
                       std::int64_t final_energy_wh, EpochMs t);

/// The samples a settlement is priced from: the recorded ones, then the record's final reading
/// at stop_ms (energy_wh; power 0, or the record's max_power_w when no sample was reported after
/// the power tariff's ignore_first_s, so a session whose telemetry was lost is still tiered on the
/// pile's own measurement). When the window is cut at the stop request, samples after it are left
/// out and the final reading is the energy at the stop request (energy_at), not the record's total.
std::vector<Sample> settlement_samples(const SessionFacts& s, const Tariff* t, std::vector<Sample> recorded);

/// What one settlement will be.
struct SettlementPlan {
    Fen priced_fen;      ///< the bill's cost (what the rider owes)
    Fen electricity_fen; ///< the bill's split (Bill::electricity_fen): electricity + service = priced
    Fen service_fen;
    std::string bill_json; ///< the bill (pricing's to_json), or `{"cost_fen":0,"lines":[],"error":…}`
    std::optional<std::int64_t> tariff_id;
    std::string note; ///< why it is 0 when it is not priced (no tariff, unreadable tariff, pricing error)
    /// False for a commissioning run (method operator): completed at 0 fen with no ledger entry and no
    /// settlements row, since no wallet is involved.
    bool charges_wallet = true;
};

/// Prices an ended session with the version in force at its start, bounded by its prepaid amount
/// (max_fen). A session that cannot be
/// priced (no tariff in force, an unreadable document, a mode the tariff does not offer) is
/// settled at 0 with the reason in `note`, so that it completes and frees its socket; the
/// operator sees it in the settlement row and can charge it with an adjustment.
/// A commissioning session (method operator) is free whatever the tariff: 0 fen, charges_wallet false.
SettlementPlan plan_settlement(const SessionFacts& s, const TariffChoice& t, std::vector<Sample> recorded);

/// The shortfall rule: a wallet is never negative, so a settlement debits what the wallet can
/// cover, at most the priced amount; cost_fen is what was debited and the rest is the shortfall.
struct Amounts {
    Fen debit_fen;
    Fen shortfall_fen;
};
Amounts settle_amounts(Fen priced, Fen available);

// ---- running cost ---------------------------------------------------------------------------

/// What the running-cost decisions need to know of a wallet.
struct WalletView {
    Fen balance_fen;
    Fen bonus_fen;
    Fen available() const { return balance_fen + bonus_fen; }
};

/// A live (charging) session to publish the running cost of.
struct LiveSession {
    std::string id;
    std::int64_t account_id = 0;
    std::string mode;
    std::optional<std::int64_t> minutes;
    EpochMs start_ms = 0;
    std::string device_id; ///< the socket the session runs on: only its reports count
    int n = 0;
    std::optional<Fen> max_fen = std::nullopt; ///< the rider's prepaid amount: reaching it is Quota::Prepaid
};

/// The running cost of a live session, published on `ph/v1/svc/session/{sid}/cost` for autostopd.
struct CostUpdate {
    std::string sid;
    std::int64_t account_id = 0;
    EpochMs at = 0;
    Fen cost_fen;    ///< the bill so far
    Fen balance_fen; ///< the wallet now (not yet debited)
    Fen bonus_fen;
    Fen available_fen;          ///< balance + bonus
    bool balance_low = false;   ///< available − cost < the tariff's stop_below_balance_fen
    bool cap_reached = false;   ///< cap.max_fen reached by the cost
    std::optional<Quota> quota; ///< the first quota reached (chosen time, cap.max_minutes, cap.max_fen, prepaid)
    std::int64_t elapsed_s = 0;
    std::int64_t energy_wh = 0;
    std::string error; ///< non-empty when the session cannot be priced (cost 0, flags false)
};
/// What is published on `ph/v1/svc/session/{sid}/cost` for `u` (sent with svc::encode).
svc::RunningCost running_cost(const CostUpdate& u);

/// Tracks live sessions and decides when their running cost is published: at once after a new
/// reading (but at most once per `min_interval_ms` per session), and every `period_ms` without
/// readings (time-based prices grow between reports). Single-threaded.
class CostTracker {
public:
    struct Options {
        std::int64_t min_interval_ms = 1000;
        std::int64_t period_ms = 15000;
        std::size_t max_samples = 20000; ///< per session; the oldest are thinned beyond this
    };
    CostTracker(const Clock& clock, Options options);

    /// Starts tracking a live session (or replaces what is known of it) with its tariff (null:
    /// no tariff, free) and the readings recorded so far.
    void track(LiveSession s, std::shared_ptr<const Tariff> tariff, std::vector<Sample> history);
    bool tracking(const std::string& sid) const;
    void forget(const std::string& sid);
    /// Keeps only the sessions in `live`; returns those dropped (ended since).
    std::vector<std::string> retain(const std::set<std::string>& live);
    /// The tracked sessions' ids.
    std::vector<std::string> sessions() const;
    /// The account a tracked session spends from.
    std::optional<std::int64_t> account_of(const std::string& sid) const;

    /// A new reading of a tracked session (ignored for an untracked one, and for one older than
    /// the last); an absent energy reading repeats the last one. Returns true when its cost should
    /// be published now.
    bool on_reading(const std::string& sid, EpochMs t, std::optional<std::int64_t> energy_wh, std::int64_t power_w);
    /// Tracked sessions whose periodic publication is due.
    std::vector<std::string> due() const;
    /// The running cost of `sid` now against `wallet`, recorded as published; nothing if untracked.
    std::optional<CostUpdate> compute(const std::string& sid, const WalletView& wallet);

private:
    struct Tracked {
        LiveSession session;
        std::shared_ptr<const Tariff> tariff;
        std::vector<Sample> samples;
        EpochMs last_published = 0;
        bool published = false;
    };
    const Clock& clock_;
    Options options_;
    std::map<std::string, Tracked> tracked_;
};

} // namespace pilehub::billing
