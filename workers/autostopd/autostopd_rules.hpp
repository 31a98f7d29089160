#pragma once
#include "common/clock.hpp"
#include "common/payloads.hpp"
#include "common/svc.hpp"
#include "common/tariff.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

/// autostopd's rules: BILLING.md §3 auto-stop. Typed events in (telemetry, running cost, faults,
/// temperature, the passing of time), stop decisions out; time from an injected clock; one thread
/// drives it (no locks). The rules never talk to a pile: the worker asks sessiond to stop.
namespace pilehub::autostopd {

/// Why a session is stopped, in the order they are checked (the first that applies wins).
enum class Reason {
    Fault,
    OverTemp,
    Unplugged, ///< EV: `evt/plug_out` of the gun while its session is live
    SocketOverload,
    DeviceOverload,
    BalanceLow,
    QuotaReached,
    NoLoad,
    Full
};
/// The stop cause sessiond is sent for the reason (svc::StopCause: every reason is an auto-stop).
svc::StopCause stop_cause(Reason r);
/// The wire word, svc's: `fault`, `over_temp`, `unplugged`, `socket_overload`, `device_overload`,
/// `balance_low`, `quota_reached`, `no_load`, `full`.
std::string_view to_string(Reason r);

/// How the session is priced (BILLING.md §2): the tariff's own modes (common/tariff.hpp).
using Mode = billing::Mode;

/// What the device is. The power rules (full and no load by power, overloads) are e-bike pile rules
/// with e-bike configuration keys; an EV charger has its own full (SoC 100 %, `suspended_ev` for
/// `ev_full_wait_s`), no load (no energy within `ev_no_load_wait_s`) and unplugged rules, and its
/// own `temp_stop_c`; fault, balance and quota apply to both.
enum class Kind { EbikePile, EvCharger, Other };

/// Fault bits (CONTRACT A.5 table) that make a socket unsafe by default: no_ground, relay_welded,
/// over_current, over_voltage, estop, over_temp, leakage.
inline constexpr std::uint32_t kDefaultUnsafeFaultBits = 0x34F;

/// A device's limits: its configuration (cfg/reported, else cfg/desired, else CONTRACT defaults)
/// and the per-socket overload ratings registered for its station's sockets.
struct DeviceLimits {
    Kind kind = Kind::EbikePile;
    payloads::EbikeConfig config;                    ///< an e-bike pile's configuration
    payloads::EvConfig ev_config;                    ///< an EV charger's configuration
    std::map<int, std::int64_t> registry_overload_w; ///< sockets.socket_overload_w
    /// The temperature that stops every session of the device (its kind's `temp_stop_c`); none
    /// for a kind without one.
    std::optional<std::int64_t> temp_stop_c() const;
    /// The overload threshold of socket n: cfg override, else registry rating, else socket_overload_w.
    std::int64_t socket_overload_w(int n) const;
    /// The full / no-load threshold of socket n: cfg override, else full_stop_w.
    std::int64_t full_stop_w(int n) const;
};

/// A session's terms: what the session row and its tariff say.
struct SessionTerms {
    std::string sid;
    std::string dev;
    int n = 0;
    std::optional<Mode> mode; ///< none when the session row was not found: only the mode-free rules apply
    EpochMs start_ms = 0;
    std::optional<std::int64_t> chosen_minutes; ///< time mode: the rider's duration
    std::optional<std::int64_t> max_minutes;    ///< tariff cap.max_minutes
    std::optional<std::int64_t> max_fen;        ///< tariff cap.max_fen
    std::optional<std::int64_t> prepaid_fen;    ///< the session's own max_fen: the rider's prepaid amount
    std::optional<std::int64_t> meter_start_wh; ///< EV: the gun's register at the start (sessions.meter_start_wh)
    std::optional<std::int64_t> tier_limit_w;   ///< power mode: the last tier's up_to_w (above it: overload)
    std::int64_t tier_ignore_first_s = 0;       ///< power mode: the start-up spike window
    bool operator==(const SessionTerms&) const = default;
};

/// One socket or gun in a telemetry report.
struct PortReading {
    int n = 0;
    std::optional<std::string> sid;
    double power_w = 0;
    std::optional<std::int64_t> energy_wh = std::nullopt;          ///< the session's energy as the device reported it
    std::optional<std::int64_t> register_wh = std::nullopt;        ///< EV: the gun's meter register
    std::optional<int> soc_pct = std::nullopt;                     ///< EV: the car's state of charge (DC guns)
    std::optional<payloads::EvGunStatus> ev_status = std::nullopt; ///< EV: the gun's OCPP status
};

/// A telemetry report.
struct Telemetry {
    std::string dev;
    std::optional<double> temp_c;
    std::optional<double> total_power_w;
    std::vector<PortReading> ports;
};

/// billingd's running cost of one session (`ph/v1/svc/session/{sid}/cost`).
struct Cost {
    std::string sid;
    std::int64_t cost_fen = 0;
    bool balance_low = false;
    bool cap_reached = false;
    std::optional<billing::Quota> quota =
        std::nullopt; ///< the first quota billingd found reached (`prepaid`: the session's max_fen)
};

/// A decision: ask sessiond to stop `sid` for `reason`.
struct Stop {
    std::string sid;
    std::string dev;
    int n = 0;
    Reason reason = Reason::Full;
    std::string detail; ///< why, in words, for the log
};

/// sessiond's answer to a stop request.
enum class Answer {
    Accepted, ///< `ok`: sessiond is stopping it; nothing more is asked for this session
    Rejected, ///< `rejected`/`invalid`/...: this reason is not asked again
    Failed,   ///< `timeout`/`failed`/`busy`/`expired`: asked again after the retry delay
};

/// The auto-stop rules of every device and session.
class Rules {
public:
    /// `unsafe_fault_bits`: the fault bits that stop a socket. `retry_ms`: delay before a failed
    /// request is repeated. `forget_ms`: a session silent this long is forgotten.
    explicit Rules(const Clock& clock, std::uint32_t unsafe_fault_bits = kDefaultUnsafeFaultBits,
                   EpochMs retry_ms = 10'000, EpochMs forget_ms = 3'600'000);

    /// Sets a device's limits (replaces what was there).
    void set_limits(const std::string& dev, DeviceLimits limits);
    bool has_limits(const std::string& dev) const;
    /// Starts (or updates) watching a session.
    void track(const SessionTerms& terms);
    bool tracks(const std::string& sid) const;
    /// Whether the session's terms came from its row (mode known).
    bool terms_known(const std::string& sid) const;
    /// The session ended or left our hands (completed, failed, suspended, settling): forget it.
    void end(const std::string& sid);
    /// sessiond is stopping the session anyway: ask nothing more.
    void stopping(const std::string& sid);
    /// Socket/gun n reports no session (an idle conn state): whatever ran there has ended.
    void port_idle(const std::string& dev, int n);

    /// A telemetry report: power rules per socket, then the pile's total.
    std::vector<Stop> on_tele(const Telemetry& t);
    /// A running cost: balance_low and cap.max_fen.
    std::vector<Stop> on_cost(const Cost& c);
    /// An e-bike fault event: one bit raised or cleared on socket n (0 = the whole pile).
    std::vector<Stop> on_fault(const std::string& dev, int n, int bit, bool active);
    /// The complete fault set of socket/gun n (0 = the device): EV fault events, states.
    std::vector<Stop> on_fault_set(const std::string& dev, int n, std::uint32_t bits);
    /// The device's temperature (from its `state`).
    std::vector<Stop> on_temp(const std::string& dev, double temp_c);
    /// EV: gun n's OCPP status (its `conn/{n}/state`): `suspended_ev` starts the full wait, any
    /// other status ends it.
    std::vector<Stop> on_gun_status(const std::string& dev, int n, payloads::EvGunStatus st);
    /// EV: the car was unplugged from gun n (`evt/plug_out`): its live session is stopped `unplugged`.
    std::vector<Stop> on_plug_out(const std::string& dev, int n);
    /// The session watched on socket/gun n, if any.
    std::optional<std::string> session_on(const std::string& dev, int n) const;
    /// Time-outs: full wait, no-load window, chosen time, cap.max_minutes, retries.
    std::vector<Stop> tick();
    /// sessiond's answer to a Stop this class decided.
    void answered(const std::string& sid, Reason r, Answer a);

    /// Sessions watched.
    std::size_t sessions() const { return sessions_.size(); }
    /// The session's terms, if watched.
    std::optional<SessionTerms> terms(const std::string& sid) const;

private:
    enum class Ask { InFlight, Accepted, Rejected, Failed };
    struct Asked {
        Ask state = Ask::InFlight;
        EpochMs retry_at = 0;
    };
    struct Session {
        SessionTerms terms;
        bool known = false;
        EpochMs last_activity = 0;
        bool has_power = false;
        double power_w = 0;
        bool loaded = false;        ///< a report at or above full_stop_w
        bool window_report = false; ///< a report inside the no-load window
        std::optional<EpochMs> below_since;
        std::optional<Cost> cost;
        // EV guns
        bool energy_seen = false;                   ///< energy flowed (session energy > 0, register rose)
        bool idle_evidence = false;                 ///< a report that can show no energy flowed
        std::optional<std::int64_t> first_register; ///< the first register reading, when no meter start is known
        std::optional<int> soc_pct;
        std::optional<EpochMs> suspended_ev_since;
        bool unplugged = false;
        bool stopping = false;
        std::map<Reason, Asked> asked;
    };
    struct Device {
        DeviceLimits limits;
        bool has_limits = false;
        std::map<int, std::string> ports; ///< n → sid
        std::set<std::string> sids;
        std::map<int, std::uint32_t> faults; ///< n → fault bits (0 = device)
        std::optional<double> temp_c;
    };

    Device& device(const std::string& dev);
    bool busy(const Session& s) const;
    bool may_ask(const Session& s, Reason r, EpochMs now) const;
    std::optional<Stop> ask(Session& s, Reason r, std::string detail, EpochMs now);
    std::optional<Stop> evaluate(Session& s, Device& d, EpochMs now);
    /// Applies `change` to the session on socket/gun n (if any) and evaluates it.
    std::vector<Stop> on_port(const std::string& dev, int n, const std::function<void(Session&, EpochMs)>& change);
    void gun_status(Session& s, payloads::EvGunStatus st, EpochMs now);
    void ev_reading(Session& s, const DeviceLimits& lim, const PortReading& p, EpochMs now);
    std::vector<Stop> evaluate_device(const std::string& dev, EpochMs now);
    void device_overload(const std::string& dev, Device& d, const std::set<std::string>& reported, double total_w,
                         EpochMs now, std::vector<Stop>& out);
    void unlink(const std::string& sid);

    const Clock& clock_;
    std::uint32_t unsafe_;
    EpochMs retry_ms_;
    EpochMs forget_ms_;
    std::map<std::string, Session, std::less<>> sessions_;
    std::map<std::string, Device, std::less<>> devices_;
};

} // namespace pilehub::autostopd
