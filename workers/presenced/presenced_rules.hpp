#pragma once
#include "common/clock.hpp"
#include "common/payloads.hpp"
#include "common/svc.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// presenced's rules: what a device's presence is, from its retained `presence` messages (with the
/// boot guard of CONTRACT A.4) and from the silence of its telemetry. Pure: typed events in,
/// decisions out; time from an injected clock; one thread drives it (no locks).
namespace pilehub::presenced {

/// Where a device stands.
enum class Status { Unknown, Online, Offline };
std::string_view to_string(Status s);

/// What presenced knows about one device (the `device_presence` row).
struct Record {
    std::string device_id;
    Status status = Status::Unknown;
    std::int64_t boot = 0; ///< the boot of the latest accepted presence (the late-Will guard)
    EpochMs since = 0;     ///< when `status` was entered
    EpochMs last_seen = 0; ///< last message of any kind from the device
    std::string reason;    ///< connect, resumed, shutdown, lwt, silent, or the device's own word
    bool operator==(const Record&) const = default;
};

/// What an event did.
enum class Outcome {
    WentOnline,  ///< a transition to online: a log row, a verdict
    WentOffline, ///< a transition to offline: a log row, a verdict
    Updated,     ///< no transition, but the record changed (a newer boot): persisted and published, no log row
    Duplicate,   ///< nothing new (a retained message seen again, traffic while online)
    LateWill,    ///< an `online:false` whose boot is lower than the latest `online:true`: ignored
    Stale,       ///< any other message from an older connection: ignored
};
std::string_view to_string(Outcome o);

/// The decision about one event: the outcome, the record afterwards, and why (for the log line).
struct Decision {
    Outcome outcome = Outcome::Duplicate;
    Record record;
    std::string why;
    /// A presence_log row is due.
    bool logs_row() const { return outcome == Outcome::WentOnline || outcome == Outcome::WentOffline; }
    /// device_presence changes and the verdict is republished.
    bool persists() const { return logs_row() || outcome == Outcome::Updated; }
};

/// Telemetry periods of a device (CONTRACT A.5 `tele_period_s`, `idle_tele_period_s`).
struct Periods {
    std::int64_t tele_period_s = 60;       ///< while any socket/gun is active
    std::int64_t idle_tele_period_s = 300; ///< otherwise
    bool operator==(const Periods&) const = default;
};

/// The presence rules of every device.
class Rules {
public:
    /// `silence_periods`: how many telemetry periods without any message mark a device offline (3).
    explicit Rules(const Clock& clock, int silence_periods = 3);

    /// Takes a record loaded at start-up. Its silence clock starts now (we were not listening).
    void restore(Record r);
    /// Sets a device's telemetry periods (cfg/reported, else desired, else the CONTRACT defaults).
    void set_periods(const std::string& dev, Periods p);
    /// Whether silence counts for this device (devices that send telemetry: piles and chargers).
    void set_watch_silence(const std::string& dev, bool watch);

    /// A `presence` message.
    Decision on_presence(const std::string& dev, const payloads::Presence& p);
    /// Any other message from the device with the `boot` of its envelope; `active` when it is
    /// telemetry showing a busy socket or gun (the shorter period applies), nullopt when the
    /// message says nothing about activity.
    Decision on_traffic(const std::string& dev, std::int64_t boot, std::optional<bool> active);
    /// Devices whose silence has lasted `silence_periods` telemetry periods go offline (`silent`).
    std::vector<Decision> tick();

    /// The current record of a device, if any.
    std::optional<Record> record(const std::string& dev) const;
    /// Every record.
    std::vector<Record> records() const;
    /// The silence time-out of a device now, in ms.
    EpochMs silence_timeout_ms(const std::string& dev) const;
    /// Devices heard from since the last call, with their last_seen (for a periodic flush).
    std::vector<std::pair<std::string, EpochMs>> take_seen();

private:
    struct Device {
        Record rec;
        Periods periods;
        bool watch = true;
        bool active = false;
        bool seen_dirty = false;
    };
    Device& device(const std::string& dev);
    Decision go(Device& d, Outcome o, Status s, std::int64_t boot, std::string reason, std::string why);

    const Clock& clock_;
    int silence_periods_;
    std::map<std::string, Device, std::less<>> devices_;
};

} // namespace pilehub::presenced

namespace pilehub::presenced {

/// The telemetry periods in a configuration document: a `cfg/reported` or `cfg/desired` message,
/// its `data`, or the stored copy (the keys at the top, under `values`, `data` or `data.values`).
/// nullopt when the text holds neither key or is not JSON; keys out of range are refused.
std::optional<Periods> periods_from_config(std::string_view text);

} // namespace pilehub::presenced
