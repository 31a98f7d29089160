#pragma once
#include "common/clock.hpp"
#include "common/payloads/ev.hpp"
#include "common/svc/codec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// recorderd's device report (`ph/v1/svc/device/{id}/report`): one raw telemetry message, validated
/// once, its sockets bound to the sessions that run on them. The consumers of telemetry other than
/// recorderd and presenced (sessiond, billingd, autostopd) read this instead of raw `tele`.
namespace pilehub::svc {

/// Limits of a device report (spelled here only).
inline constexpr int kMaxReportSockets = 64;                   ///< socket/gun numbers 1..64, each once
inline constexpr std::int64_t kMaxReportPowerW = 1'000'000;    ///< one socket or gun
inline constexpr std::int64_t kMaxReportTotalW = 100'000'000;  ///< a device: at most 64 sockets' worth
inline constexpr std::int64_t kMaxReportEnergyWh = 10'000'000; ///< session energy (CONTRACT A.5)
inline constexpr std::int64_t kMinReportTempDc = -500, kMaxReportTempDc = 2'000;
inline constexpr std::int64_t kMaxReportRegisterWh = 10'000'000'000'000; ///< an EV meter register (CONTRACT A.5)

/// One socket (or gun) of a report, bound to its session: the session's row in `sessions` names
/// this device and this socket. Whole numbers only.
struct ReportSocket {
    ReportSocket() = default;
    /// An e-bike socket (the EV members stay absent).
    ReportSocket(int n_, std::string sid_, std::int64_t power_w_, std::optional<std::int64_t> energy_wh_ = std::nullopt)
        : n(n_), sid(std::move(sid_)), power_w(power_w_), energy_wh(energy_wh_) {}
    int n = 1;                             ///< socket/gun number, 1..64
    std::string sid;                       ///< the session running on it, `[A-Za-z0-9_.:-]{1,64}`
    std::int64_t power_w = 0;              ///< power now, rounded to whole watts, 0..1 000 000
    std::optional<std::int64_t> energy_wh; ///< session energy as the device reported it; absent when it left it out
    /// EV guns only: the meter register (`energy_register_wh`), 0..10^13 Wh.
    std::optional<std::int64_t> register_wh;
    /// EV guns only: the car's state of charge, 0..100 (DC guns report it).
    std::optional<int> soc_pct;
    /// EV guns only: the gun's OCPP status word (`charging`, `suspended_ev`, ...; payloads::EvGunStatus).
    std::optional<payloads::EvGunStatus> ev_status;
    bool operator==(const ReportSocket&) const = default;
};

/// recorderd's report of one raw telemetry message of a device, published (QoS 0, not retained) when
/// at least one of its sockets is bound to its session; unbound and foreign sockets are left out.
/// Read by sessiond (energy and power of the session row), billingd (running cost) and autostopd
/// (power, temperature and overload rules). Unknown members are ignored.
struct DeviceReport {
    std::string device_id;
    EpochMs device_ts = 0;               ///< the device's own `ts`; 0 when the device has no clock (CONTRACT A.3)
    EpochMs received_at = 0;             ///< when recorderd received the raw message (platform time)
    std::optional<std::int64_t> temp_dc; ///< device temperature, deci-degrees Celsius, -500..2000
    std::int64_t total_power_w =
        0; ///< the device's draw: its own total, or the sum of all its sockets (bound or not) when larger
    std::vector<ReportSocket> sockets; ///< the bound sockets, 1..64 of them, each number once
    /// The time of the reading: the device's `ts`, or the receive time when the device has no clock
    /// (CONTRACT A.3).
    EpochMs at() const { return device_ts != 0 ? device_ts : received_at; }
    bool operator==(const DeviceReport&) const = default;
};
template <> struct Traits<DeviceReport> {
    static constexpr std::string_view kName = "device_report";
    static constexpr std::string_view kTopic = "ph/v1/svc/device/{id}/report";
    static constexpr bool kStrict = false;
};

/// Reads the report that arrived on `topic`: decoded, and its `device_id` the topic's `{id}`, the
/// one check every reader makes. The reason otherwise, e.g. `device_id P2 is not the topic's P1`.
Result<DeviceReport> decode_report(std::string_view topic, std::string_view payload);

} // namespace pilehub::svc
