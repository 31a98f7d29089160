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

/// recorderd's rules: telemetry reports become rows (a session's power curve, device readings),
/// fault events become opened and closed fault records. Pure: no MQTT, no SQL; time from an
/// injected clock. Each class is driven by one thread.
namespace pilehub::recorderd {

/// One point of a session's power curve (`session_samples`).
struct SessionSample {
    std::string session_id;
    EpochMs t = 0;
    std::int64_t power_w = 0;
    std::int64_t energy_wh = 0; ///< cumulative session energy
    std::optional<std::int64_t> voltage_dv;
    std::optional<std::int64_t> current_ma;
    std::optional<std::int64_t> soc_pct;
    bool operator==(const SessionSample&) const = default;
};

/// One device-level reading (`device_samples`).
struct DeviceSample {
    std::string device_id;
    EpochMs t = 0;
    std::optional<std::int64_t> temp_dc; ///< deci-degrees Celsius
    std::optional<std::int64_t> total_power_w;
    std::optional<std::int64_t> rssi_dbm;
    bool operator==(const DeviceSample&) const = default;
};

/// Where a message stands in its device's stream (`boot`, `seq` of the envelope).
enum class Order {
    Fresh,      ///< after everything seen before
    Replay,     ///< the same boot and seq again
    OutOfOrder, ///< older than something already seen
};
std::string_view to_string(Order o);

/// What a telemetry report gives.
struct TeleRows {
    Order order = Order::Fresh;
    std::string why; ///< for Replay / OutOfOrder, the log line
    std::vector<SessionSample> sessions;
    std::optional<DeviceSample> device;
};

/// Turns telemetry into rows. Keeps per device the last (boot, seq), and per session the last
/// energy (for reports that leave `session_energy_wh` out).
class TeleRecorder {
public:
    explicit TeleRecorder(const Clock& clock) : clock_(clock) {}

    /// An e-bike pile's `tele`: one curve point per socket that reports a `sid`, one device reading.
    TeleRows on_ebike(const std::string& dev, const payloads::Message<payloads::EbikeTele>& m);
    /// An EV charger's `tele`: one curve point per gun with a `sid`, one device reading.
    TeleRows on_ev(const std::string& dev, const payloads::Message<payloads::EvTele>& m);
    /// Sessions whose last energy is remembered (bounded).
    std::size_t remembered_sessions() const { return energy_.size(); }

private:
    std::optional<TeleRows> check(const std::string& dev, const payloads::Envelope& env);
    EpochMs when(const payloads::Envelope& env) const;
    std::int64_t energy(const std::string& sid, std::optional<std::int64_t> reported, EpochMs t);

    const Clock& clock_;
    std::map<std::string, std::pair<std::int64_t, std::int64_t>, std::less<>> last_; ///< dev → (boot, seq)
    std::map<std::string, std::pair<std::int64_t, EpochMs>, std::less<>> energy_;    ///< sid → (energy, t)
};

/// The device report (docs/topics.md, `ph/v1/svc/device/{id}/report`) of one fresh e-bike pile
/// telemetry message whose unbound claims were already taken out (their `sid` reset by the binding
/// check): one socket per remaining `sid`, whole watts, the session energy as reported; nullopt
/// when no socket is left. `received` is the platform's receive time.
std::optional<svc::DeviceReport> device_report(const std::string& dev, const payloads::Message<payloads::EbikeTele>& m,
                                               EpochMs received);
/// The same for an EV charger's telemetry (one socket per gun with a `sid`).
std::optional<svc::DeviceReport> device_report(const std::string& dev, const payloads::Message<payloads::EvTele>& m,
                                               EpochMs received);

/// One change to `fault_records`.
struct FaultChange {
    enum class Kind { Open, Close };
    Kind kind = Kind::Open;
    int n = 0; ///< 0 = the whole device
    std::string code;
    std::optional<int> bit;
    bool operator==(const FaultChange&) const = default;
};

/// What a fault event does, given the codes already open on its socket/gun.
struct FaultVerdict {
    Order order = Order::Fresh;
    std::vector<FaultChange> changes;
    std::vector<std::string> notes; ///< e.g. "cleared fault over_current was not open": logged
};

/// Turns fault events into changes of the open fault records, ignoring events older than one
/// already applied to the same fault (a raise delivered after its clear must not reopen it).
class FaultTracker {
public:
    /// `evt/fault` of an e-bike pile: `{code, bit, active, n}` raises or clears one fault.
    FaultVerdict on_ebike(const std::string& dev, const payloads::Message<payloads::EbikeFault>& m,
                          const std::vector<std::string>& open_codes);
    /// `evt/fault` of an EV charger: `{n, fault_bits}` is the complete set of gun n (0 = charger):
    /// faults set and not open are opened, open ones no longer set are closed.
    FaultVerdict on_ev(const std::string& dev, const payloads::Message<payloads::EvFaultEvent>& m,
                       const std::vector<std::string>& open_codes);

private:
    bool older(const std::string& key, const payloads::Envelope& env);
    std::map<std::string, std::pair<std::int64_t, std::int64_t>, std::less<>> last_; ///< dev/n[/code] → (boot, seq)
};

/// The record code of an EV fault bit: its CONTRACT name, or `bit_<n>` for bits without one.
std::string ev_fault_code(int bit);

} // namespace pilehub::recorderd
