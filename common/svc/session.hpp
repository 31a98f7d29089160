#pragma once
#include "common/money.hpp"
#include "common/pricing.hpp"
#include "common/svc/codec.hpp"
#include "common/svc/session_state.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// What every process learns about sessions without asking: their transitions
/// (`ph/v1/svc/session/{sid}/state`) and their running cost (`ph/v1/svc/session/{sid}/cost`).
namespace pilehub::svc {

/// How a session was started: `app` (over the sessiond RPC) or `card` (a swipe at the pile).
/// Operator: commissioning (seed 004 远程控制), an operator runs a socket for a set time, free: no rider
/// account (account_id 0 on the wire, NULL in sessions), settled at 0 fen without a wallet.
enum class SessionMethod { App, Card, Operator };
inline constexpr std::array<SessionMethod, 3> kAllSessionMethods{SessionMethod::App, SessionMethod::Card,
                                                                 SessionMethod::Operator};
/// `app`, `card`, `operator`.
std::string_view to_string(SessionMethod m);
std::optional<SessionMethod> parse_session_method(std::string_view s);

/// The amounts of a settlement, on the `completed` transition only (BILLING.md §4).
struct SettlementAmounts {
    Fen cost_fen;      ///< debited from the wallet (= sessions.cost_fen), 0..10^11
    Fen priced_fen;    ///< what the tariff priced, 0..10^11
    Fen shortfall_fen; ///< priced − debited (the wallet could not cover it), 0..10^11
    bool operator==(const SettlementAmounts&) const = default;
};

/// A session transition on `ph/v1/svc/session/{sid}/state` (QoS 1, not retained). Published by
/// sessiond for every state change and when a session record is committed, and by billingd for
/// `completed` after the settlement commits. Read by billingd, autostopd, the API and operators.
/// Unknown members are ignored.
struct SessionTransition {
    std::string sid; ///< session id, `[A-Za-z0-9_.:-]{1,64}`
    SessionState state = SessionState::Starting;
    std::optional<SessionState> prev; ///< the state before; absent (written `null`) for a new session
    std::string reason;               ///< why: `start`, `user_stop`, `offline:lwt`, `record:full`, ... (≤128 bytes)
    std::string actor;                ///< who: `rider`, `card`, `pile`, `autostopd`, `operator:<name>`, `billingd`, ...
    EpochMs ts = 0;                   ///< when the publisher committed it, UTC epoch ms
    bool record = false;              ///< the pile's (or a forced) session record is committed: billingd's cue
    std::string device_id;            ///< the pile
    int n = 1;                        ///< the socket, 1..64
    std::int64_t account_id = 1;      ///< the rider's account, ≥ 1
    SessionMethod method = SessionMethod::App;
    std::optional<Fen> max_fen; ///< the rider's prepaid amount, if the session has one (CONTRACT D.1)
    /// Present exactly when `state` is `completed` (written flat: cost_fen, priced_fen, shortfall_fen).
    std::optional<SettlementAmounts> settlement;
    bool operator==(const SessionTransition&) const = default;
};
template <> struct Traits<SessionTransition> {
    static constexpr std::string_view kName = "session_transition";
    static constexpr std::string_view kTopic = "ph/v1/svc/session/{sid}/state";
    static constexpr bool kStrict = false;
};

/// billingd's running cost of a charging session on `ph/v1/svc/session/{sid}/cost` (QoS 0, not
/// retained), at once after a new reading (at most once per `billingd.cost_min_interval_ms`) and
/// every `billingd.cost_period_s` otherwise. Read by autostopd (balance_low, cap_reached) and
/// the API (the live cost shown to the rider). Unknown members are ignored.
struct RunningCost {
    std::string sid;
    EpochMs ts = 0;           ///< when it was computed, UTC epoch ms
    Fen cost_fen;             ///< the bill so far, 0..10^11 (0 when it cannot be priced: see `error`)
    Fen balance_fen;          ///< the wallet's real money now (not yet debited)
    Fen bonus_fen;            ///< the wallet's bonus now
    Fen available_fen;        ///< balance + bonus
    bool balance_low = false; ///< available − cost < the tariff's stop_below_balance_fen
    bool cap_reached = false; ///< the tariff's cap.max_fen is reached
    std::optional<billing::Quota>
        quota;                        ///< the first quota reached: `chosen_time`, `max_minutes`, `max_fen`, `prepaid`
    std::int64_t elapsed_s = 0;       ///< since the pile confirmed the start, ≥ 0
    std::int64_t energy_wh = 0;       ///< session energy of the latest reading, 0..10^7
    std::optional<std::string> error; ///< why the session cannot be priced (then cost 0, flags false)
    bool operator==(const RunningCost&) const = default;
};
template <> struct Traits<RunningCost> {
    static constexpr std::string_view kName = "running_cost";
    static constexpr std::string_view kTopic = "ph/v1/svc/session/{sid}/cost";
    static constexpr bool kStrict = false;
};

} // namespace pilehub::svc
