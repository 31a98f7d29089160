#pragma once
#include "common/json.hpp"
#include "common/money.hpp"
#include "common/tariff.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The pricing engine of BILLING.md §2: one pure function from (tariff version, mode, session
// times, telemetry samples, stop reason) to a bill whose lines explain every fen. Settlement
// (billingd), auto-stop (running cost) and the operator's calculator (POST /admin/tariff-quote)
// all call it. Every amount is an ExactFen; the total is rounded once, by ExactFen::floor_fen().
namespace pilehub::billing {

/// One telemetry report of a session.
struct Sample {
    EpochMs t = 0;              ///< when it was measured
    std::int64_t energy_wh = 0; ///< cumulative session energy (may reset or fall on bad devices)
    std::int64_t power_w = 0;   ///< instantaneous power, whole watts (decoders round to nearest)
};

/// What is priced. Samples are ordered by time; their times are clamped into [start_ms, stop_ms].
/// Settlement appends the device's final reading (session record) as the last sample.
struct PricingInput {
    Mode mode = Mode::Power;
    EpochMs start_ms = 0;
    EpochMs stop_ms = 0;                 ///< the end, or "now" for a running session
    std::optional<std::int64_t> minutes; ///< time mode: the duration the rider chose
    std::span<const Sample> samples;
    std::string_view stop_reason; ///< wire name (`no_load`, `full`, …); empty while running
    /// The session's own prepaid amount (`sessions.max_fen`, CONTRACT D.1, BILLING §5): bounds the cost
    /// like cap.max_fen (its own line) and reaches Quota::Prepaid. At least 1 fen when set.
    std::optional<Fen> max_fen;
};

/// What a bill line is.
enum class LineKind {
    Time,    ///< time mode charge (counts as service: no metered electricity price)
    Power,   ///< power mode charge (one tier × charged time; counts as service)
    Energy,  ///< electricity of the energy in one TOU half-hour slot (energy × elec_e4)
    Service, ///< service fee of an energy session: per slot (energy × service_e4), by hour or by power tier
    Waiver,  ///< free station, no load, free minutes: cancels the charges
    Cap,     ///< cap.max_fen, or the session's prepaid amount (max_fen), bounds the cost
    Note     ///< an explanation with no amount (tier choice, limits, ignored readings)
};
std::string_view to_string(LineKind k);

/// One line of a bill: words for people, the exact amount, and that amount floored for display.
struct BillLine {
    LineKind kind = LineKind::Note;
    std::string text;
    ExactFen exact;               ///< the amount that counts
    Fen fen;                      ///< exact.floor_fen(), display only: never summed
    std::int64_t seconds = 0;     ///< Time / Power / hourly and power-tier Service lines: charged seconds
    std::int64_t energy_mwh = 0;  ///< per-slot lines (Energy, Service by energy): energy in the slot
    EpochMs from_ms = 0;          ///< per-slot lines: the slot's start
    EpochMs to_ms = 0;            ///< per-slot lines: the slot's end
    std::optional<Period> period; ///< per-slot lines (set exactly on them)
};

/// A priced session. Invariants: exact_total == Σ lines[i].exact, cost_fen == exact_total.floor_fen(),
/// charges_exact == electricity_exact + service_exact and electricity_fen + service_fen == cost_fen.
struct Bill {
    Fen cost_fen;
    ExactFen exact_total;
    ExactFen charges_exact;     ///< Σ of Time/Power/Energy/Service lines (before waivers and bounds)
    ExactFen electricity_exact; ///< Σ of Energy lines (before waivers and bounds)
    ExactFen service_exact;     ///< Σ of Service, Time and Power lines (before waivers and bounds)
    /// The cost split for invoices (docs/billing.md, "Electricity and service"): electricity is its
    /// charges after the waiver, floored, never above cost_fen; service is the rest of cost_fen. So a
    /// waiver zeroes both and a bound (cap.max_fen, max_fen) lowers the service share first.
    Fen electricity_fen;
    Fen service_fen;
    ExactFen uncapped_exact; ///< charges plus waiver (what cap.max_fen and max_fen are compared with)
    std::vector<BillLine> lines;
    std::int64_t elapsed_s = 0;            ///< whole seconds from start to stop
    std::int64_t charged_s = 0;            ///< elapsed_s bounded by the chosen time and cap.max_minutes
    std::int64_t energy_mwh = 0;           ///< energy charged (within the charged time)
    std::int64_t uncharged_energy_mwh = 0; ///< energy after the charged time limit
    std::int64_t max_power_w = 0;          ///< highest power that chose the tier (power / service_by power)
    std::optional<PowerTier> tier;         ///< the tier that priced the session, if one did
    bool overload = false;             ///< power above the last tier: priced at the last tier; stop as socket_overload
    bool waived = false;               ///< free station, no load or free minutes
    bool cap_applied = false;          ///< cap.max_fen lowered the cost
    bool prepaid_applied = false;      ///< the session's max_fen lowered the cost
    bool time_limited = false;         ///< the chosen time or cap.max_minutes shortened the charged time
    std::vector<std::string> warnings; ///< ignored readings (energy falling, samples out of order)
};

/// Prices a session (or, with stop_ms = now and no stop reason, a running one). Fails only on
/// inputs that cannot be priced: a mode the tariff does not offer, a time-mode duration not among
/// its options, stop before start, amounts beyond int64.
Result<Bill> price(const Tariff& t, const PricingInput& in);

/// The cost so far of a running session: price() as if it ended at `now_ms` with no stop reason.
Result<Bill> running_cost(const Tariff& t, PricingInput in, EpochMs now_ms);

/// Splits `total_mwh` into parts proportional to `weights` (e.g. milliseconds of an interval in
/// each TOU slot), each part a whole mWh, by the largest-remainder rule (ties: the earlier part),
/// so the parts sum exactly to the total. The one place energy is apportioned; not a money rounding.
/// All weights zero: everything goes to the first part.
std::vector<std::int64_t> apportion_mwh(std::int64_t total_mwh, std::span<const std::int64_t> weights);

// ---- stop rules that depend on the tariff ------------------------------------------------------

/// Which limit stops a session as `quota_reached`.
enum class Quota {
    ChosenTime, ///< time mode: the rider's minutes are used up
    MaxMinutes, ///< cap.max_minutes
    MaxFen,     ///< cap.max_fen
    Prepaid     ///< the session's own max_fen, the rider's prepaid amount (CONTRACT D.1)
};
std::string_view to_string(Quota q);

/// The first quota a running session has reached, given its running bill (from running_cost()).
std::optional<Quota> quota_reached(const Tariff& t, const PricingInput& in, const Bill& running);
/// Whether the chosen time (time mode) or cap.max_minutes is used up after `elapsed_s`.
bool time_quota_reached(const Tariff& t, const PricingInput& in, std::int64_t elapsed_s);
/// Whether cap.max_fen is reached by `running`.
bool cap_reached(const Tariff& t, const Bill& running);
/// Whether the session's own prepaid amount (in.max_fen) is reached by `running` (its cost before
/// the bounds, like cap_reached).
bool prepaid_reached(const PricingInput& in, const Bill& running);
/// balance_low: `available` (what the wallet can spend: balance + bonus) minus the running cost is
/// below stop_below_balance_fen.
bool balance_low(const Tariff& t, Fen available, Fen running_cost);
/// Whether a wallet holding `available` may start a session (≥ min_start_balance_fen).
bool can_start(const Tariff& t, Fen available);

// ---- the operator's calculator (POST /admin/tariff-quote) --------------------------------------

/// The stop reasons of CONTRACT.md A.5 plus the platform's `balance_low`.
bool is_stop_reason(std::string_view s);

/// A parsed quote request: `{tariff, mode, samples: [{t, energy_wh, power_w}], stop_reason?,
/// minutes?, max_fen?, start?, stop?}`. Times are RFC 3339 strings or epoch ms; start and stop default to
/// the first and the last sample; max_fen is the session's prepaid amount (1..100 000 000 fen).
struct QuoteRequest {
    Tariff tariff;
    Mode mode = Mode::Power;
    std::vector<Sample> samples;
    std::string stop_reason;
    std::optional<std::int64_t> minutes;
    EpochMs start_ms = 0;
    EpochMs stop_ms = 0;
    std::optional<Fen> max_fen;
};

/// Reads a quote request; the error names the field (`tariff.energy.slots must have 48 entries`,
/// `samples[3].energy_wh is required`).
Result<QuoteRequest> parse_quote_request(std::string_view body);
/// Prices a quote request with the same engine that settles sessions.
Result<Bill> price_quote(const QuoteRequest& q);

/// `{cost_fen, electricity_fen, service_fen, exact_units, units_per_fen, lines: [{kind, text, fen,
/// exact_units, …}], warnings, overload, waived, cap_applied, prepaid_applied, time_limited, charged_s,
/// energy_mwh, max_power_w}`.
void write_bill(json::Writer& w, const Bill& b);
std::string to_json(const Bill& b);

} // namespace pilehub::billing
