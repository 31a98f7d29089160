#pragma once
#include "common/payloads/shared.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// `ev_charger` payloads (CONTRACT A.5): AC/DC chargers with guns numbered 1..16.
namespace pilehub::payloads {

/// The most power one gun may report (`power_w`, 1 MW: the codecs' bound).
inline constexpr std::int64_t kMaxEvGunPowerW = 1'000'000;
/// The highest energy register a meter may report (`energy_register_wh`, `meter_start_wh`, `meter_stop_wh`):
/// 10^13 Wh, the codecs' bound.
inline constexpr std::int64_t kMaxRegisterWh = 10'000'000'000'000;

/// Gun `st`: OCPP 1.6 ChargePointStatus in snake case.
enum class EvGunStatus {
    Available,     ///< `available`
    Preparing,     ///< `preparing`
    Charging,      ///< `charging`
    SuspendedEvse, ///< `suspended_evse`
    SuspendedEv,   ///< `suspended_ev`
    Finishing,     ///< `finishing`
    Reserved,      ///< `reserved`
    Unavailable,   ///< `unavailable`
    Faulted,       ///< `faulted`
};
std::string_view to_string(EvGunStatus s);

/// The fault bit table of CONTRACT A.5; the enum value is the bit number.
enum class EvFault : int {
    NoGround = 0,         ///< `no_ground`
    RelayWelded = 1,      ///< `relay_welded`
    OverCurrent = 2,      ///< `over_current`
    OverVoltage = 3,      ///< `over_voltage`
    UnderVoltage = 4,     ///< `under_voltage`
    MeterFault = 5,       ///< `meter_fault`
    Estop = 6,            ///< `estop`
    CpError = 7,          ///< `cp_error`
    OverTemp = 8,         ///< `over_temp`
    Leakage = 9,          ///< `leakage`
    LeakageSelftest = 10, ///< `leakage_selftest`
    ReaderFault = 11,     ///< `reader_fault`
    DoorOpen = 12,        ///< `door_open`
    Other = 31,           ///< `other`
};
std::string_view to_string(EvFault f);
/// The mask of one fault: `1u << bit`.
constexpr std::uint32_t ev_fault_mask(EvFault f) {
    return std::uint32_t{1} << static_cast<int>(f);
}
/// The names of the set bits that have a name, lowest bit first (bits 13..30 have none).
std::vector<std::string> ev_fault_names(std::uint32_t fault_bits);
/// The bits of a list of names; nullopt if any name is not in the table.
std::optional<std::uint32_t> ev_fault_bits(const std::vector<std::string>& names);

/// Why an EV session stopped: OCPP 1.6 Reason in snake case, plus `quota_reached` (the start
/// command's limit was reached).
enum class EvStopReason {
    EmergencyStop,  ///< `emergency_stop`
    EvDisconnected, ///< `ev_disconnected`
    HardReset,      ///< `hard_reset`
    Local,          ///< `local`
    Other,          ///< `other`
    PowerLoss,      ///< `power_loss`
    Reboot,         ///< `reboot`
    Remote,         ///< `remote`
    SoftReset,      ///< `soft_reset`
    UnlockCommand,  ///< `unlock_command`
    DeAuthorized,   ///< `de_authorized`
    QuotaReached,   ///< `quota_reached`
};
std::string_view to_string(EvStopReason r);

/// `conn/{n}/state` data (schema `ev_conn_state`): `{st, sid, since, fault_bits, faults}`.
/// `faults` is written from `fault_bits`; on decode the names must match the bits.
struct EvConnState {
    EvGunStatus st = EvGunStatus::Available;
    std::optional<std::string> sid;
    EpochMs since = 0;
    std::uint32_t fault_bits = 0;
    bool operator==(const EvConnState&) const = default;
};

/// One gun in `tele.data.guns[]`.
struct EvGunTele {
    int n = 1; ///< 1..16
    EvGunStatus st = EvGunStatus::Available;
    std::optional<std::string> sid;
    std::int64_t energy_register_wh = 0;           ///< meter register, 0..10^13
    std::optional<std::int64_t> session_energy_wh; ///< 0..10 000 000
    double power_w = 0;                            ///< 0..1 000 000
    std::optional<double> current_a;               ///< 0..1 000
    std::optional<double> voltage_v;               ///< 0..1 500
    std::optional<int> soc_pct;                    ///< 0..100 (DC only)
    bool operator==(const EvGunTele&) const = default;
};

/// `tele` data (schema `ev_tele`): `{guns[], temp_c, total_power_w}`.
struct EvTele {
    std::vector<EvGunTele> guns; ///< at most 16
    std::optional<double> temp_c;
    std::optional<double> total_power_w;
    bool operator==(const EvTele&) const = default;
};

/// `evt/plug_in` data `{n}` (schema `ev_evt_plug_in`).
struct EvPlugIn {
    int n = 1;
    bool operator==(const EvPlugIn&) const = default;
};

/// `evt/plug_out` data `{n}` (schema `ev_evt_plug_out`).
struct EvPlugOut {
    int n = 1;
    bool operator==(const EvPlugOut&) const = default;
};

/// `evt/session_started` data `{n, sid, id_tag, meter_start_wh, start_ts}` (schema `ev_evt_session_started`).
struct EvSessionStarted {
    int n = 1;
    std::string sid;
    std::optional<std::string> id_tag; ///< OCPP idTag, at most 20 bytes
    std::int64_t meter_start_wh = 0;
    EpochMs start_ts = 0;
    bool operator==(const EvSessionStarted&) const = default;
};

/// `evt/session_stopped` data `{n, sid, reason, meter_start_wh, meter_stop_wh, stop_ts}`
/// (schema `ev_evt_session_stopped`); `meter_stop_wh >= meter_start_wh`.
struct EvSessionStopped {
    int n = 1;
    std::string sid;
    EvStopReason reason = EvStopReason::Other;
    std::int64_t meter_start_wh = 0;
    std::int64_t meter_stop_wh = 0;
    std::optional<EpochMs> stop_ts;
    bool operator==(const EvSessionStopped&) const = default;
};

/// `evt/fault` data `{n, fault_bits, faults, vendor_code}` (schema `ev_evt_fault`): the complete
/// fault set of gun `n` (0 = the charger) after the change; `faults` is written from the bits.
struct EvFaultEvent {
    int n = 0;
    std::uint32_t fault_bits = 0;
    std::optional<std::string> vendor_code; ///< at most 64 bytes
    bool operator==(const EvFaultEvent&) const = default;
};

/// `req/authorize` data `{id_tag, n}` (schema `ev_req_authorize`); replied with AuthorizeReply.
struct EvAuthorize {
    std::string id_tag; ///< at most 20 bytes
    int n = 1;
    bool operator==(const EvAuthorize&) const = default;
};

/// `req/start_session` data `{n, id_tag, meter_start_wh}` (schema `ev_req_start_session`):
/// a session started at the charger (OCPP StartTransaction); the reply gives the `sid`.
struct EvStartSessionReq {
    int n = 1;
    std::string id_tag;
    std::int64_t meter_start_wh = 0;
    std::optional<EpochMs> start_ts;
    bool operator==(const EvStartSessionReq&) const = default;
};

/// `req-reply/start_session` data `{sid, decision, reason}` (schema `ev_req_reply_start_session`);
/// `sid` is required when accepted.
struct EvStartSessionReply {
    Decision decision = Decision::Reject;
    std::optional<std::string> sid;
    std::optional<ErrorCode> reason;
    bool operator==(const EvStartSessionReply&) const = default;
};

/// `req/session_record` data (schema `ev_req_session_record`): final record, resent with the
/// same `id` until acknowledged.
struct EvSessionRecord {
    int n = 1;
    std::string sid;
    std::optional<std::string> id_tag;
    EvStopReason reason = EvStopReason::Other;
    std::int64_t meter_start_wh = 0;
    std::int64_t meter_stop_wh = 0; ///< >= meter_start_wh
    EpochMs start_ts = 0;
    EpochMs stop_ts = 0; ///< >= start_ts
    std::optional<double> max_power_w;
    bool operator==(const EvSessionRecord&) const = default;
};

/// `cmd/start_session` data `{n, sid, id_tag, limit}` (schema `ev_cmd_start_session`).
struct EvStartSessionCmd {
    int n = 1;
    std::string sid;
    std::string id_tag;
    std::optional<ChargeLimit> limit;
    bool operator==(const EvStartSessionCmd&) const = default;
};

/// `cmd/stop_session` data `{sid}` (schema `ev_cmd_stop_session`).
struct EvStopSessionCmd {
    std::string sid;
    bool operator==(const EvStopSessionCmd&) const = default;
};

/// `reset.type`.
enum class ResetType { Soft, Hard };
std::string_view to_string(ResetType t);

/// `cmd/reset` data `{type: soft|hard}` (schema `ev_cmd_reset`).
struct EvReset {
    ResetType type = ResetType::Soft;
    bool operator==(const EvReset&) const = default;
};

/// `cmd/unlock` data `{n}` (schema `ev_cmd_unlock`).
struct EvUnlock {
    int n = 1;
    bool operator==(const EvUnlock&) const = default;
};

/// `cmd/set_availability` data `{n, operative}` (schema `ev_cmd_set_availability`); n 0 = whole charger.
struct EvSetAvailability {
    int n = 0;
    bool operative = true;
    bool operator==(const EvSetAvailability&) const = default;
};

/// `cmd/set_tariff` data (schema `ev_cmd_set_tariff`): the price the charger shows, per kWh in
/// 0.0001 yuan (`_e4`, as in BILLING.md), plus an optional display text.
struct EvSetTariff {
    std::int64_t elec_e4 = 0;        ///< 0..10 000 000
    std::int64_t service_e4 = 0;     ///< 0..10 000 000
    std::optional<std::string> text; ///< at most 256 bytes
    bool operator==(const EvSetTariff&) const = default;
};

/// An EV charger's configuration values (the platform's extension of CONTRACT A.5, which gives
/// chargers none), each with its default. A missing key decodes as its default; encode writes every
/// key. The defaults: the car's own "full" (OCPP `suspended_ev`, the S2 switch open) is believed
/// after 3 min (seed 003 FAQ 8), a sleeping car after 90 s (seed 003 FAQ 3.6); DC power modules
/// derate around 70 °C and the charger stops at 85 °C; telemetry every 30 s while a gun charges
/// (at 120 kW that is 1 kWh a message, enough for running cost and `max_fen`), 5 min when idle.
struct EvConfig {
    std::int64_t ev_full_wait_s = 180;     ///< 0..86 400: `suspended_ev` this long → `full`
    std::int64_t ev_no_load_wait_s = 90;   ///< 0..3 600: no energy this long after the start → `no_load`
    std::int64_t temp_warn_c = 70;         ///< 0..150, <= temp_stop_c
    std::int64_t temp_stop_c = 85;         ///< 0..150
    std::int64_t tele_period_s = 30;       ///< 5..3 600, while any gun has a session
    std::int64_t idle_tele_period_s = 300; ///< 5..86 400
    bool operator==(const EvConfig&) const = default;
};

/// `cfg/desired` data of a charger (schema `ev_cfg_desired`): `version` (>= 1) plus every EvConfig key, flat.
struct EvCfgDesired {
    std::int64_t version = 1;
    EvConfig values;
    bool operator==(const EvCfgDesired&) const = default;
};

/// `cfg/reported` data of a charger (schema `ev_cfg_reported`): `{version, status, values, rejected, msg}`;
/// `values` = configuration in force; `rejected` = keys not applied (partial / rejected).
struct EvCfgReported {
    std::int64_t version = 0;
    CfgStatus status = CfgStatus::Applied;
    EvConfig values;
    std::vector<std::string> rejected;
    std::optional<std::string> msg;
    bool operator==(const EvCfgReported&) const = default;
};

// --- traits ---
template <> struct PayloadTraits<EvConnState> {
    static constexpr std::string_view kName = "ev_conn_state";
    static constexpr Flow kFlow = Flow::Status;
    static constexpr std::string_view kLeaf = "conn/{n}/state";
};
template <> struct PayloadTraits<EvTele> {
    static constexpr std::string_view kName = "ev_tele";
    static constexpr Flow kFlow = Flow::Status;
    static constexpr std::string_view kLeaf = "tele";
};
template <> struct PayloadTraits<EvPlugIn> {
    static constexpr std::string_view kName = "ev_evt_plug_in";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/plug_in";
};
template <> struct PayloadTraits<EvPlugOut> {
    static constexpr std::string_view kName = "ev_evt_plug_out";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/plug_out";
};
template <> struct PayloadTraits<EvSessionStarted> {
    static constexpr std::string_view kName = "ev_evt_session_started";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/session_started";
};
template <> struct PayloadTraits<EvSessionStopped> {
    static constexpr std::string_view kName = "ev_evt_session_stopped";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/session_stopped";
};
template <> struct PayloadTraits<EvFaultEvent> {
    static constexpr std::string_view kName = "ev_evt_fault";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/fault";
};
template <> struct PayloadTraits<EvAuthorize> {
    static constexpr std::string_view kName = "ev_req_authorize";
    static constexpr Flow kFlow = Flow::Request;
    static constexpr std::string_view kLeaf = "req/authorize";
    using ReplyData = AuthorizeReply;
};
template <> struct PayloadTraits<EvStartSessionReq> {
    static constexpr std::string_view kName = "ev_req_start_session";
    static constexpr Flow kFlow = Flow::Request;
    static constexpr std::string_view kLeaf = "req/start_session";
    using ReplyData = EvStartSessionReply;
};
template <> struct PayloadTraits<Reply<EvStartSessionReply>> {
    static constexpr std::string_view kName = "ev_req_reply_start_session";
    static constexpr Flow kFlow = Flow::Reply;
    static constexpr std::string_view kLeaf = "req-reply/start_session";
};
template <> struct PayloadTraits<EvSessionRecord> {
    static constexpr std::string_view kName = "ev_req_session_record";
    static constexpr Flow kFlow = Flow::Request;
    static constexpr std::string_view kLeaf = "req/session_record";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EvStartSessionCmd> {
    static constexpr std::string_view kName = "ev_cmd_start_session";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/start_session";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EvStopSessionCmd> {
    static constexpr std::string_view kName = "ev_cmd_stop_session";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/stop_session";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EvReset> {
    static constexpr std::string_view kName = "ev_cmd_reset";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/reset";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EvUnlock> {
    static constexpr std::string_view kName = "ev_cmd_unlock";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/unlock";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EvSetAvailability> {
    static constexpr std::string_view kName = "ev_cmd_set_availability";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/set_availability";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EvSetTariff> {
    static constexpr std::string_view kName = "ev_cmd_set_tariff";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/set_tariff";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EvCfgDesired> {
    static constexpr std::string_view kName = "ev_cfg_desired";
    static constexpr Flow kFlow = Flow::Config;
    static constexpr std::string_view kLeaf = "cfg/desired";
};
template <> struct PayloadTraits<EvCfgReported> {
    static constexpr std::string_view kName = "ev_cfg_reported";
    static constexpr Flow kFlow = Flow::Config;
    static constexpr std::string_view kLeaf = "cfg/reported";
};

} // namespace pilehub::payloads
