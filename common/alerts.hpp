#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// Alerts (CONTRACT G): the kinds, the life of one alert and its de-duplication key. Written by
/// alertd (workers/alertd), acknowledged and resolved by operators through the API; both follow
/// the one state machine below. Pure: no database, no MQTT.
namespace pilehub::alerts {

/// A device silent, or offline by its presence, longer than `alert.offline_after_s`.
inline constexpr std::string_view kOffline = "offline";
/// A fault raised by a device (evt/fault, a socket's or the device's fault set).
inline constexpr std::string_view kFault = "fault";
/// A device's temperature at or above its `temp_warn_c`.
inline constexpr std::string_view kOverTemp = "over_temp";
/// A parking space's ground lock in fault (parkingd's alert, or the space's state).
inline constexpr std::string_view kLockFault = "lock_fault";
/// A session starting, stopping or suspended, or charging without a report, longer than
/// `alert.stuck_session_s`.
inline constexpr std::string_view kStuckSession = "stuck_session";
/// A payment order flagged with an anomaly (paid but refused or credited late, common/payments).
inline constexpr std::string_view kPaymentAnomaly = "payment_anomaly";

/// Every kind, in the order the docs list them.
inline constexpr std::array<std::string_view, 6> kKinds{kOffline,   kFault,        kOverTemp,
                                                        kLockFault, kStuckSession, kPaymentAnomaly};

/// The state of one alert. `open` → `acknowledged` → `resolved` (or `open` → `resolved`).
enum class State { Open, Acknowledged, Resolved };
std::string_view to_string(State s);
std::optional<State> parse_state(std::string_view s);
/// Every state word (the API's `state` filter).
inline constexpr std::array<std::string_view, 3> kStates{"open", "acknowledged", "resolved"};

/// What can happen to the alert of one de-duplication key.
enum class Event {
    Raise,   ///< the condition is seen (the first time: opens; again: a repeat)
    Clear,   ///< the condition is seen gone (resolves, by `system`)
    Ack,     ///< an operator acknowledges
    Resolve, ///< an operator resolves
};
std::string_view to_string(Event e);

/// The situation of one key: no current alert (`None`), or the current alert's state. `Resolved`
/// here means resolved by an operator while the condition still holds: nothing new is opened until
/// it has cleared.
enum class Slot { None, Open, Acknowledged, Resolved };
std::string_view to_string(Slot s);

/// What the owner of a key does after an event.
enum class Action {
    Nothing, ///< nothing to write (a clear without an alert)
    Open,    ///< insert a new alert (and publish and deliver it)
    Touch,   ///< the condition persists: refresh the current alert's last_seen
    Ack,     ///< mark the current alert acknowledged by the operator
    Resolve, ///< mark the current alert resolved (by `system` on Clear, by the operator on Resolve)
    Forget,  ///< the condition cleared after an operator resolved it: the key is free again
    Refuse,  ///< an operator's action on an alert in the wrong state (API: 409 conflict)
};
std::string_view to_string(Action a);

/// One transition: the action and the key's situation after it.
struct Step {
    Action action = Action::Nothing;
    Slot next = Slot::None;
};

/// The state machine of one key (tests walk every (slot, event) pair).
/// - None: Raise opens; Clear does nothing; Ack and Resolve are refused.
/// - Open: Raise touches (no second alert); Clear resolves; Ack acknowledges; Resolve resolves.
/// - Acknowledged: Raise touches (the acknowledgement holds while the condition persists); Clear
///   resolves; Ack is refused; Resolve resolves.
/// - Resolved (by an operator, condition still there): Raise touches nothing new; Clear frees the
///   key; Ack and Resolve are refused.
Step handle(Slot slot, Event event);

/// The de-duplication key of an alert: `<kind>:<device>:<n>` for a device's alert (n 0: the
/// device itself), `<kind>:<subject>` for another subject (a session id, a payment order id).
std::string dedup_key(std::string_view kind, std::string_view device_id, std::int64_t n);
std::string dedup_key(std::string_view kind, std::string_view subject);

/// The `severity` of an alert of `kind`: `critical` (over_temp), `major` (offline, fault,
/// lock_fault, payment_anomaly) or `minor` (stuck_session).
std::string_view severity_of(std::string_view kind);

} // namespace pilehub::alerts
