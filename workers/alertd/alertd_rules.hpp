#pragma once
#include "common/alerts.hpp"
#include "common/clock.hpp"
#include "common/payloads.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// alertd's rules: typed observations in (presence, faults, temperatures, lock states, the sessions
/// and payment orders a scan found), alert decisions out. Pure: no MQTT, no database; time from the
/// injected clock. One condition per de-duplication key (common/alerts.hpp) with the set of causes
/// that hold it (fault codes, the sources of a lock fault): the key is raised while any cause holds
/// and cleared when none does; common/alerts.hpp `handle` says what each raise or clear does.
namespace pilehub::alertd {

/// Tunables (config keys `alert.*`, `alertd.*`).
struct RuleOptions {
    std::int64_t offline_after_ms = 300'000; ///< offline by its presence this long: an `offline` alert
    /// Silent (no live message at all) this long: an `offline` alert too. Longer than offline_after_ms
    /// by default: an idle pile reports every idle_tele_period_s (300 s), and CONTRACT A.4 calls a
    /// device offline after 3 telemetry periods of silence.
    std::int64_t silent_after_ms = 900'000;
    std::int64_t touch_every_ms = 60'000; ///< a persisting condition refreshes last_seen at most this often
    double temp_warn_default_c = 60;      ///< a device's temp_warn_c when its configuration names none
    double temp_clear_margin_c = 5;       ///< over_temp clears below temp_warn_c minus this (no flapping)
};

/// What an alert is about.
struct Subject {
    std::string kind;      ///< common/alerts.hpp kKinds
    std::string device_id; ///< empty: no device (a payment order)
    std::int64_t n = 0;    ///< socket, gun or space; 0: the device itself
    std::string subject;   ///< what exactly: the device id, a socket code, a space id, a session or order id
    /// Its de-duplication key (alerts::dedup_key).
    std::string key() const;
};

/// What to do with the alert of one key: Open (insert, publish, deliver), Touch (last_seen) or
/// Resolve (by `system`).
struct Decision {
    alerts::Action action = alerts::Action::Nothing;
    Subject about;
    std::string detail; ///< what was seen, for the alert's `detail` and `msg` (≤ 512 bytes)
    EpochMs at = 0;
};

/// A session a scan of the core database found stuck (`alert.stuck_session_s`).
struct StuckSession {
    std::string session_id;
    std::string device_id;
    std::int64_t n = 0;
    std::string state; ///< starting, stopping, charging, ...
    EpochMs since = 0; ///< its last change or report
};

/// A payment order a scan found flagged (payments.anomaly not empty).
struct PaymentAnomaly {
    std::string order_id;
    std::string anomaly;
};

/// A current alert read back from the database at start.
struct Current {
    std::string kind;
    std::string device_id;
    std::int64_t n = 0;
    std::string subject;
};

class Rules {
public:
    Rules(const Clock& clock, RuleOptions options);

    /// Marks the key of a current (open or acknowledged) alert as held, so that the condition seen
    /// again repeats it and seen gone resolves it (alertd restarted).
    void restore(const Current& c);

    /// A device's presence (CONTRACT A.4). `online:false` starts the offline clock; a late Will
    /// (its boot below the latest `online:true`) is ignored; `online:true` clears `offline`.
    std::vector<Decision> on_presence(const std::string& dev, const payloads::Presence& p);
    /// Any other message of a device. A retained one (replayed by the broker at subscribe) says
    /// nothing about the device being alive now; a live one clears `offline`.
    std::vector<Decision> on_traffic(const std::string& dev, bool retained);
    /// One fault code of socket `n` (0: the device) raised or cleared (an e-bike pile's evt/fault).
    std::vector<Decision> on_fault_event(const std::string& dev, std::int64_t n, const std::string& code, bool active);
    /// The complete fault set of socket `n` (0: the device): `state`, `conn/{n}/state`, an EV evt/fault.
    std::vector<Decision> on_fault_set(const std::string& dev, std::int64_t n, const std::vector<std::string>& codes);
    /// A temperature reading (`state` or `tele` temp_c) against the device's temp_warn_c.
    std::vector<Decision> on_temperature(const std::string& dev, double temp_c);
    /// Whether silence counts for `dev` (not for cameras, which send no telemetry: CONTRACT A.5).
    void set_watch_silence(const std::string& dev, bool watch);
    /// The device's temp_warn_c from its desired configuration (nullopt: the default).
    void set_temp_warn(const std::string& dev, std::optional<double> temp_warn_c);
    /// A lock fault of space `n` of camera `dev` seen raised or cleared by one `source` (`parkingd`:
    /// its lock_fault alert; `space_state`: the space's `lock.st`). Held while any source holds it.
    std::vector<Decision> on_lock(const std::string& dev, std::int64_t n, const std::string& source, bool fault,
                                  const std::string& msg);
    /// Every session stuck now: new ones raise, the others held before clear.
    std::vector<Decision> on_stuck_sessions(const std::vector<StuckSession>& stuck);
    /// Every payment order flagged now: new ones raise, the others held before clear.
    std::vector<Decision> on_payment_anomalies(const std::vector<PaymentAnomaly>& flagged);
    /// The offline check: devices offline for offline_after_ms or silent for silent_after_ms.
    std::vector<Decision> tick();

    /// Keys currently held (tests).
    std::size_t held() const { return conds_.size(); }

private:
    struct Condition {
        Subject about;
        std::set<std::string> causes;
        alerts::Slot slot = alerts::Slot::None;
        EpochMs last_touch = 0;
    };
    struct Presence {
        bool online = true;
        std::int64_t online_boot = -1;
        EpochMs offline_since = 0;
        EpochMs last_seen = 0;
        std::string reason;
        bool watch_silence = true;
    };
    /// Sets the causes of `about`'s key and returns what that does (nothing, or one decision).
    std::vector<Decision> set_causes(const Subject& about, std::set<std::string> causes, const std::string& detail);
    /// The causes held for `key`, without the placeholder of a restored alert.
    std::set<std::string> causes_of(const std::string& key) const;
    /// Clears every held key of `kind` whose subject is not in `keep`.
    void clear_missing(std::string_view kind, const std::set<std::string>& keep, std::vector<Decision>& out);
    Presence& presence(const std::string& dev);

    const Clock& clock_;
    RuleOptions opts_;
    std::map<std::string, Condition, std::less<>> conds_;
    std::map<std::string, Presence, std::less<>> presence_;
    std::map<std::string, double, std::less<>> temp_warn_;
};

/// temp_warn_c from a device's configuration document (cfg/desired: `{"data":{...}}` or the bare
/// data object); nullopt when it names none.
std::optional<double> temp_warn_from_config(std::string_view document);

} // namespace pilehub::alertd
