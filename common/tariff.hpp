#pragma once
#include "common/json.hpp"
#include "common/money.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

// The tariff document of BILLING.md §1: its struct, its JSON codec with validation that names the
// offending field, the fixed-offset time zones it may use, and the versioning rules (which
// version prices a session). Pure: no MQTT, HTTP or SQL here.
namespace pilehub::billing {

/// How a session is priced; the rider chooses one of the tariff's `modes`.
enum class Mode { Time, Power, Energy };
/// A time-of-use period; `energy.slots` maps each half hour of the local day to one.
enum class Period { Sharp, Peak, Flat, Valley };
/// How the service fee of an energy session is priced.
enum class ServiceBy { Energy, Hour, Power };

/// "time" / "power" / "energy" (the wire names).
std::string_view to_string(Mode m);
std::string_view to_string(Period p);
std::string_view to_string(ServiceBy s);
/// The mode named `s`, or nothing if it is not one of the wire names.
std::optional<Mode> parse_mode(std::string_view s);

/// Time mode: a flat price per hour and the durations the rider may pick.
struct TimePricing {
    std::int64_t fen_per_hour = 0;
    std::vector<std::int64_t> options_minutes; ///< strictly increasing, 1..2880
    bool operator==(const TimePricing&) const = default;
};

/// One power tier: sessions whose highest power is at most `up_to_w` pay `fen_per_hour`.
struct PowerTier {
    std::int64_t up_to_w = 0;
    std::int64_t fen_per_hour = 0;
    bool operator==(const PowerTier&) const = default;
};

/// Power mode (and `service_by: power`): tiers by increasing power, and the start-up spike window.
struct PowerPricing {
    std::vector<PowerTier> tiers;    ///< up_to_w strictly increasing, fen_per_hour never decreasing
    std::int64_t ignore_first_s = 0; ///< power reported during the first seconds does not choose the tier
    bool operator==(const PowerPricing&) const = default;
};

/// Price of one TOU period per kWh, in 0.0001 yuan (`_e4`).
struct PeriodPrice {
    std::int64_t elec_e4 = 0;
    std::int64_t service_e4 = 0; ///< must be 0 unless service_by is energy
    bool operator==(const PeriodPrice&) const = default;
};

/// Number of half-hour slots in a day.
inline constexpr std::size_t kSlotsPerDay = 48;

/// Energy mode: TOU prices per kWh and the service fee rule.
struct EnergyPricing {
    std::array<std::optional<PeriodPrice>, 4> periods{}; ///< indexed by Period; absent = not defined
    std::array<Period, kSlotsPerDay> slots{};            ///< slot i covers local [i×30 min, (i+1)×30 min)
    ServiceBy service_by = ServiceBy::Energy;
    std::int64_t service_fen_per_hour = 0; ///< only with service_by hour
    /// The price of `p`; p must be defined (validate_tariff guarantees it for every slot).
    const PeriodPrice& price(Period p) const { return *periods[static_cast<std::size_t>(p)]; }
    bool operator==(const EnergyPricing&) const = default;
};

/// The TOU period in force at `t`: the period of the half-hour slot holding `t`'s local time at
/// `utc_offset_s` (the tariff's zone).
Period period_at(const EnergyPricing& e, EpochMs t, std::int32_t utc_offset_s);

/// What stops a session as `quota_reached` and bounds its cost.
struct Cap {
    std::optional<std::int64_t> max_minutes; ///< 1..2880 (48 h)
    std::optional<Fen> max_fen;
    bool operator==(const Cap&) const = default;
};

/// When a saved version takes effect, as written in the document.
struct EffectiveFrom {
    enum class Kind {
        Default, ///< absent: at once for a station's first tariff, else at the next local midnight
        Now,     ///< "now": when saved
        At       ///< an RFC 3339 time
    };
    Kind kind = Kind::Default;
    EpochMs at_ms = 0; ///< Kind::At only
    bool operator==(const EffectiveFrom&) const = default;
};

/// A tariff that omits `min_start_balance_fen` starts nothing for a wallet under 2 yuan, and one that
/// omits `stop_below_balance_fen` ends a session when less than 2 yuan would remain (BILLING.md §5,
/// seed 000: "余额不足2元时无法开始充电 … 不足2元时，订单会自动结束").
inline constexpr Fen kDefaultMinStartBalanceFen{200};
inline constexpr Fen kDefaultStopBelowBalanceFen{200};

/// The `parking` section (CONTRACT E.1): what a car on one of the station's spaces pays for the
/// time it is not charging. Fee = billable seconds × fen_per_hour / 3600, capped by max_fen,
/// rounded down once.
struct ParkingPricing {
    std::int64_t free_minutes = 30;              ///< 0..1440 free minutes per stay
    std::int64_t fen_per_hour = 0;               ///< 0..kMaxFenPerHour
    std::optional<Fen> max_fen;                  ///< cap per stay, 1..kMaxCapFen
    std::int64_t raise_delay_s = 30;             ///< the lock rises this long after departure, 0..3600
    std::int64_t reservation_hold_minutes = 120; ///< a reservation times out after this, 1..1440
    bool operator==(const ParkingPricing&) const = default;
};

/// One tariff document (BILLING.md §1). Build it with parse_tariff(), or check a hand-made one
/// with validate_tariff(); the pricing engine assumes a valid tariff.
struct Tariff {
    std::string name;
    std::string timezone; ///< one of the fixed-offset zones (find_time_zone)
    std::vector<Mode> modes;
    std::optional<TimePricing> time;
    std::optional<PowerPricing> power;
    std::optional<EnergyPricing> energy;
    bool free = false;             ///< a free station: every session costs 0
    std::int64_t free_minutes = 0; ///< a session that ends within this many minutes costs 0
    Cap cap;
    std::optional<ParkingPricing> parking; ///< the station's parking fees (CONTRACT E.1); none = parking is free
    Fen min_start_balance_fen{kDefaultMinStartBalanceFen};
    Fen stop_below_balance_fen{kDefaultStopBelowBalanceFen};
    EffectiveFrom effective_from;
    bool operator==(const Tariff&) const = default;
};

/// Whether the tariff offers `m` to riders.
bool offers(const Tariff& t, Mode m);

/// Checks every rule a saved tariff must satisfy; the first problem, naming its field
/// (`power.tiers[2].up_to_w must be greater than the previous tier`), or nothing if valid.
std::optional<std::string> validate_tariff(const Tariff& t);

/// Reads and validates a tariff document (JSON text). Unknown fields are refused so that a
/// misspelt price is never silently ignored.
Result<Tariff> parse_tariff(std::string_view json);
/// The same, for a tariff embedded in a larger document; errors are prefixed with `path`
/// (e.g. "tariff" → "tariff.energy.slots must have 48 entries").
Result<Tariff> parse_tariff(const rapidjson::Value& v, std::string_view path);

/// The document as JSON; parse_tariff(to_json(t)) == t for every valid tariff.
std::string to_json(const Tariff& t);
/// Writes the document as one JSON value into `w` (for embedding in replies).
void write_tariff(json::Writer& w, const Tariff& t);

// ---- time zones -----------------------------------------------------------------------------

/// A time zone PileHub can price in: a fixed UTC offset (no daylight saving). See docs/billing.md.
struct TimeZone {
    std::string_view name;
    std::int32_t utc_offset_s = 0;
};

/// The zone called `name` (IANA spelling, e.g. "Asia/Shanghai"), or nothing if unsupported.
std::optional<TimeZone> find_time_zone(std::string_view name);
/// Every supported zone name, for error messages and the console.
const std::vector<TimeZone>& supported_time_zones();

/// Parses an RFC 3339 time ("2024-11-21T10:00:00+08:00", "…Z", optional fraction, sub-ms truncated).
std::optional<EpochMs> parse_rfc3339(std::string_view s);
/// Formats `t` as RFC 3339 at the given offset ("2024-11-21T10:00:00+08:00"; ".123" when ms ≠ 0).
std::string format_rfc3339(EpochMs t, std::int32_t utc_offset_s);
/// Parses a local wall time "YYYY-MM-DD HH:MM[:SS]" at the given offset.
std::optional<EpochMs> parse_local_datetime(std::string_view s, std::int32_t utc_offset_s);
/// The first local midnight strictly after `t`.
EpochMs next_local_midnight(EpochMs t, std::int32_t utc_offset_s);

// ---- versions -------------------------------------------------------------------------------

/// One saved version of a station's tariff.
struct TariffVersion {
    std::int64_t id = 0;           ///< increases with every save for the station
    EpochMs saved_at_ms = 0;       ///< when the operator saved it
    EpochMs effective_from_ms = 0; ///< from effective_from() at save time
    Tariff tariff;
};

/// When a version saved at `saved_at` takes effect: a station's first tariff at once; a change at
/// the next local midnight after it is saved; "now" at `saved_at`; an explicit RFC 3339 time at
/// that time, but never before `saved_at` (a saved change never reprices the past).
EpochMs effective_from(const Tariff& t, EpochMs saved_at, bool first_for_station);

/// The version that prices a session started at `session_start`: among versions already in effect
/// then, the one with the latest effective_from_ms (ties: the later save, then the higher id).
/// nullptr if none was in effect yet. `V` is TariffVersion or any row with the same three fields
/// (id, saved_at_ms, effective_from_ms), so that stores choose before they parse.
template <typename V> const V* version_in_force(const std::vector<V>& versions, EpochMs session_start) {
    const V* best = nullptr;
    for (const auto& v : versions) {
        if (v.effective_from_ms > session_start)
            continue;
        if (!best || std::tie(v.effective_from_ms, v.saved_at_ms, v.id) >
                         std::tie(best->effective_from_ms, best->saved_at_ms, best->id))
            best = &v;
    }
    return best;
}

/// The tariff version that prices a session, as found in the database (billing::TariffStore).
struct TariffChoice {
    std::optional<std::int64_t> id;       ///< tariffs.id; nothing when no tariff was in force
    std::shared_ptr<const Tariff> tariff; ///< null when none, or when the document could not be read
    std::string problem;                  ///< why `tariff` is null although `id` is set
};

} // namespace pilehub::billing
