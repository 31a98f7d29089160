#pragma once
#include "common/error_codes.hpp"
#include "common/money.hpp"
#include "common/payloads.hpp"
#include "common/socket_availability.hpp"
#include "common/svc.hpp"
#include "common/tariff.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

/// The charging-session state machine (BILLING.md §3), the start pre-checks (BILLING.md §4,
/// CONTRACT B refusal codes) and command time-outs. Pure: no MQTT, no SQL, time only as numbers.
namespace pilehub::sessiond {

/// A session's state: the platform's one list (svc::SessionState, common/svc/session_state.hpp),
/// with its words (`to_string`, `svc::parse_session_state`) and questions (`svc::holds_socket`, ...).
/// sessiond sets every state except `Completed`, which billingd sets in the settlement transaction.
using State = svc::SessionState;

/// Something that happened to a session.
enum class Event {
    StartAccepted,   ///< cmd-reply/start_port `ok`
    StartRefused,    ///< cmd-reply/start_port with any refusal (rejected, busy, expired, ...)
    StartTimedOut,   ///< the pile did not confirm the start before the command (or card) deadline
    PileStarted,     ///< evt/session_started, or conn/{n}/state charging/full_wait with this sid
    SocketIdle,      ///< conn/{n}/state shows the socket no longer running this session
    StopRequested,   ///< rpc stop from the rider (API) or autostopd
    StopAccepted,    ///< cmd-reply/stop_port `ok`
    StopRefused,     ///< cmd-reply/stop_port with a refusal other than `expired`
    StopTimedOut,    ///< the stop is not confirmed `sessiond.stop_resend_ms` after it was (re)sent
    PileStopped,     ///< evt/session_stopped for this sid
    RecordReceived,  ///< req/session_record for this sid (a new message id)
    PileOffline,     ///< presenced (or the device's own presence) says the pile left
    PileOnline,      ///< the pile is back
    ForceEnd,        ///< rpc force_end from an operator
    SuspendTimedOut, ///< suspended for `sessiond.suspend_timeout_s` since its suspension and its last report
    RecordOverdue,   ///< the pile has shown the socket idle for `sessiond.idle_record_wait_s`, and no record came
};
/// Every event, in declaration order (for the table test).
inline constexpr std::array<Event, 16> kAllEvents{
    Event::StartAccepted, Event::StartRefused,  Event::StartTimedOut,   Event::PileStarted,
    Event::SocketIdle,    Event::StopRequested, Event::StopAccepted,    Event::StopRefused,
    Event::StopTimedOut,  Event::PileStopped,   Event::RecordReceived,  Event::PileOffline,
    Event::PileOnline,    Event::ForceEnd,      Event::SuspendTimedOut, Event::RecordOverdue};
/// A readable name for logs and test output, e.g. `start_accepted`.
std::string_view to_string(Event e);

/// What the rules need to know about a session besides its state.
struct Facts {
    bool has_record = false;       ///< a session record (real or forced) is committed in the row
    bool pile_confirmed = false;   ///< the pile confirmed the start at some point (started_at is set)
    bool stop_sent = false;        ///< a stop_port was already sent for this session
    bool stop_outstanding = false; ///< that stop is not confirmed yet (the row's command is `<sid>.stop`)
};

/// How an event ends up.
enum class Verdict {
    Apply,  ///< a transition (or a committed record): one conditional UPDATE + a session_events row
    Ignore, ///< nothing changes (duplicate, late or out-of-order news); a request is still answered `ok`
    Refuse, ///< nothing changes and a request (force_end on an ended session) is refused `conflict`
};

/// What handle() decides.
struct Decision {
    Verdict verdict = Verdict::Ignore;
    State next = State::Starting; ///< the state after the event (the same state when nothing moves)
    bool commit_record = false;   ///< write the pile's record into the row (RecordReceived)
    bool forced_record = false;   ///< synthesize the record from the last report (ForceEnd)
    bool send_stop = false;       ///< send stop_port {n, sid} (rid `<sid>.stop`, never another)
    bool resend_stop = false;     ///< send the outstanding stop again: the same rid, a fresh exp
    bool clear_command = false;   ///< the outstanding command is answered, confirmed or moot: forget it
    bool ack_record = false;      ///< answer the record `ok` (only after any commit)
    bool await_record = false;    ///< the pile shows the socket idle: its record is due within the wait
    bool operator==(const Decision&) const = default;
};

/// The one transition function: `state` × `event` (with `facts`) → decision. Total over every pair.
/// A stop, once sent, stays outstanding (and is re-sent, same rid, fresh exp, on StopTimedOut and
/// PileOnline) until the pile confirms it (stop_port ok, evt/session_stopped, the socket idle), refuses
/// it for good, or a record settles the session.
Decision handle(State state, Event event, const Facts& facts);

/// The stop reason of a record the platform synthesizes from the last report: `forced` for an
/// operator's force-end; `power_loss` for a suspended session given up on (SuspendTimedOut, or its pile
/// back with the socket idle and no record); for a stopping session whose pile shows the socket idle
/// without a record, what the platform asked for (as ended_reason makes of a `remote_stop`), else `other`.
std::string synthesized_reason(State state, Event event, const std::optional<std::string>& stop_requested);

/// When a suspended session is given up on: `timeout_ms` after the later of its suspension and its
/// last report (a pile back and still reporting the session is not stuck).
inline EpochMs suspend_deadline(EpochMs suspended_at, std::optional<EpochMs> last_report_at, std::int64_t timeout_ms) {
    return std::max(suspended_at, last_report_at.value_or(suspended_at)) + timeout_ms;
}

// ---- start pre-checks -----------------------------------------------------------------------

/// Everything known about a start request when it is checked.
struct StartFacts {
    bool socket_exists = false;    ///< the socket or gun (and its device) is registered
    bool device_installed = false; ///< its device is installed at a station (not in stock, not retired)
    bool account_exists = false;
    bool account_frozen = false;
    Fen arrears_fen;           ///< what the account owes (BILLING §5): any arrears refuse the start
    bool mode_offered = false; ///< the tariff in force offers the mode (and the minutes, in time mode)
    /// sockets::socket_availability(): Disabled refuses unknown_socket, Offline device_offline,
    /// Faulted socket_faulted, Busy socket_busy.
    sockets::Availability socket = sockets::Availability::Offline;
    bool method_in_use = false; ///< the account already has a live session started the same way
    Fen available_fen;          ///< balance + bonus
    Fen min_start_balance_fen;  ///< from the tariff in force
    /// Commissioning (method operator): no account, no tariff, free; only the socket is checked.
    bool commissioning = false;
};

/// The refusal for a start, in CONTRACT B's codes, or nothing if it may start. Checked in this
/// order: unknown_socket, device_not_installed, not_found (account), account_frozen, arrears, invalid_mode,
/// device_offline, socket_faulted, socket_busy, session_limit, balance_too_low. A commissioning start
/// is checked for unknown_socket, device_not_installed, device_offline, socket_faulted and socket_busy only.
std::optional<ErrorCode> precheck(const StartFacts& f);

/// The reason a pile's or charger's reply carries for a refusal: the device contract's codes
/// (schema/payloads/reply.json) do not have `arrears`, which a pile shows as `balance_too_low` (the
/// rider sees the arrears in the app), nor `device_not_installed`, which a pile shows as
/// `unknown_socket`; every other code as it is.
ErrorCode device_reason(ErrorCode code);

/// How the rider wants to charge, as parsed from a start request.
struct ModeChoice {
    billing::Mode mode = billing::Mode::Power;
    std::optional<std::int64_t> minutes; ///< time mode only
};

/// The pile's `limit` for a session in `mode` if `tariff` offers it, else nothing (invalid_mode):
/// time mode needs `minutes` among `time.options_minutes`; power and energy charge until full.
std::optional<payloads::ChargeLimit> limit_for(const billing::Tariff& tariff, const ModeChoice& choice);

/// The pile's `limit` for a session already created in `mode` (`time` needs its `minutes`); nothing for
/// an unknown mode.
std::optional<payloads::ChargeLimit> session_limit(std::string_view mode, std::optional<std::int64_t> minutes);

/// The mode of a card session: `preferred` if the tariff offers it, else the first offered mode;
/// time mode takes the longest option. Nothing if the tariff offers no usable mode.
std::optional<ModeChoice> card_mode(const billing::Tariff& tariff, billing::Mode preferred);

/// The stop reason a session ends with, from its record and what the platform asked for: the
/// pile's own reason, except that a `remote_stop` the platform sent because an auto-stop rule applied
/// (BILLING.md §3: full, no_load, socket_overload, device_overload, quota_reached, balance_low,
/// over_temp, fault) keeps that rule's reason. So a `no_load` decided by autostopd still costs 0 and
/// the row says why the session really ended; rider and operator stops stay `remote_stop`.
std::string ended_reason(std::string_view record_reason, const std::optional<std::string>& stop_requested);

/// Which session event a socket's conn state is for the session `sid` that holds it (or ran on it).
/// PileStarted when it runs `sid` (charging, full_wait); SocketIdle when it runs nothing or another
/// session; nothing while it is `starting` this sid.
std::optional<Event> conn_event(const payloads::EbikeConnState& s, std::string_view sid);
/// The same for an EV gun's OCPP status: PileStarted when it runs `sid` (charging, suspended_ev,
/// suspended_evse); SocketIdle when the transaction is over or never was (available, finishing,
/// reserved, unavailable, faulted) or the gun runs another session; nothing while it is `preparing`
/// (the car is plugged in, the start is on its way) or charging without naming a session.
std::optional<Event> conn_event(const payloads::EvConnState& s, std::string_view sid);

/// A socket's or gun's last retained conn state, of either device kind.
using ConnState = std::variant<payloads::EbikeConnState, payloads::EvConnState>;
std::optional<Event> conn_event(const ConnState& s, std::string_view sid);
/// What the conn state says for availability (sockets::reported of either kind).
sockets::Reported reported(const ConnState& s);

// ---- EV chargers (CONTRACT A.5 `ev_charger`, D.1) ---------------------------------------------

/// The platform's stop reason (CONTRACT A.5 words, as e-bike piles use them) for an OCPP stop reason:
/// `ev_disconnected` → `unplugged`, `remote`, `unlock_command` and `de_authorized` → `remote_stop`,
/// `local` → `user_stop`, `emergency_stop` → `fault`, `power_loss` and `quota_reached` as they are;
/// resets, reboots and `other` → `other` (CONTRACT D.2's table; the table test lists every one).
std::string platform_stop_reason(payloads::EvStopReason r);

/// The id tag an app session is started with at a charger (`cmd/start_session.id_tag`, at most 20
/// bytes): `APP` + the account id, so the charger's display and records show whose session it is.
std::string app_id_tag(std::int64_t account_id);

/// The device commands a kind has (the relay answers `unsupported` for the others): an e-bike pile
/// takes query_port, query_device, reboot, set_time; an EV charger reset, unlock, set_availability,
/// set_tariff, set_time; a camera reboot and set_time (its lock and snapshot go through parkingd).
bool kind_has_command(std::string_view device_kind, svc::DeviceCommandName name);

// ---- device records against what the platform saw -----------------------------------------

/// What the platform saw of a session, to judge its pile's record by.
struct PlatformView {
    EpochMs created_at = 0;              ///< the platform created the session (its clock)
    std::optional<EpochMs> started_at;   ///< the start as stored (the platform's or the pile's clock)
    EpochMs now = 0;                     ///< the record's arrival
    std::int64_t reported_energy_wh = 0; ///< the highest session energy the pile reported while it ran
    std::int64_t rated_power_w = 0;      ///< the socket's rated (limit) power
};

/// How much a record may exceed what the platform saw before it is called absurd.
struct RecordSlack {
    std::int64_t tolerance_s = 60; ///< beyond platform time (and rated power over that much more time)
    std::int64_t time_scale = 1;   ///< device time may run this many times faster (a simulator's --speed)
};

/// The verdict on a record's duration and energy.
struct RecordCheck {
    bool clamped = false;
    std::int64_t duration_s = 0; ///< what is committed
    std::int64_t energy_wh = 0;  ///< what is committed
    std::string why;             ///< what was absurd (empty when nothing)
};

/// Checks a record's `duration_s` against platform time (created_at .. now, times time_scale, plus
/// tolerance_s) and its `energy_wh` against rated power over that time. An absurd duration is clamped
/// to what the platform saw run (its own start, else created_at, to now); an absurd energy to the
/// energy last reported (never above the rated-power bound). A plausible record passes unchanged.
RecordCheck check_record(std::int64_t duration_s, std::int64_t energy_wh, const PlatformView& p,
                         const RecordSlack& slack);

// ---- answers remembered for repeated requests ------------------------------------------------

/// The last `capacity` answers by key, for requests that arrive again (QoS 1 redelivery, a retry):
/// the oldest is forgotten first. Pure.
template <typename V> class RecentAnswers {
public:
    explicit RecentAnswers(std::size_t capacity = 4096) : capacity_(capacity) {}
    /// The answer remembered for `key`, if any.
    const V* find(const std::string& key) const {
        auto it = by_key_.find(key);
        return it == by_key_.end() ? nullptr : &it->second;
    }
    /// Remembers (or replaces) the answer for `key`.
    void put(const std::string& key, V value) {
        if (by_key_.insert_or_assign(key, std::move(value)).second) {
            order_.push_back(key);
            if (order_.size() > capacity_) {
                by_key_.erase(order_.front());
                order_.pop_front();
            }
        }
    }
    std::size_t size() const { return by_key_.size(); }

private:
    std::size_t capacity_;
    std::map<std::string, V> by_key_;
    std::deque<std::string> order_;
};

// ---- commands and time-outs -----------------------------------------------------------------

/// Which command a rid belongs to. Rids are derived from the session id, so a session has at most
/// one start and one stop command ever, and any resend necessarily keeps its rid.
enum class CommandKind { Start, Stop };
/// `<sid>.start` / `<sid>.stop`.
std::string command_rid(std::string_view sid, CommandKind kind);
/// The session and kind of a command rid; nothing for a rid that is not a session command.
std::optional<std::pair<std::string, CommandKind>> parse_command_rid(std::string_view rid);

/// When a command sent at `now` expires (its `exp`).
inline EpochMs command_exp(EpochMs now, std::int64_t timeout_ms) {
    return now + timeout_ms;
}
/// Whether a command may be (re)sent at `now`: never after its `exp` (CONTRACT A.6).
inline bool may_send(EpochMs exp, EpochMs now) {
    return now <= exp;
}
/// When an outstanding command (or a card start awaiting the pile) counts as timed out: its `exp`
/// plus a grace for a reply already in flight.
inline EpochMs timeout_at(EpochMs exp, std::int64_t grace_ms) {
    return exp + grace_ms;
}

/// The deadlines of outstanding commands, one per session; a worker polls due() with its clock.
class Deadlines {
public:
    /// Sets (or replaces) the deadline of `sid`.
    void arm(const std::string& sid, EpochMs at);
    /// Forgets `sid`'s deadline, if any.
    void disarm(const std::string& sid);
    /// Removes and returns every session whose deadline is at or before `now`, earliest first.
    std::vector<std::string> due(EpochMs now);
    /// The earliest deadline, if any.
    std::optional<EpochMs> next() const;
    /// The deadline of `sid`, if armed.
    std::optional<EpochMs> deadline(const std::string& sid) const;
    std::size_t size() const { return by_sid_.size(); }

private:
    std::map<std::string, EpochMs> by_sid_;
    std::multimap<EpochMs, std::string> by_time_;
};

} // namespace pilehub::sessiond
