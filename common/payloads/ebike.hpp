#pragma once
#include "common/payloads/shared.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// `ebike_pile` payloads (CONTRACT A.5): 10 or 20 sockets numbered 1..64.
namespace pilehub::payloads {

/// The most power one e-bike socket may report (`power_w`, `max_power_w`): the codecs' bound, and the
/// rated power assumed for a socket the registry gives none.
inline constexpr std::int64_t kMaxEbikeSocketPowerW = 20'000;

/// Socket `st`: `idle|starting|charging|full_wait|fault|disabled`.
enum class EbikeSocketStatus { Idle, Starting, Charging, FullWait, Fault, Disabled };
std::string_view to_string(EbikeSocketStatus s);

/// Why a socket stopped (CONTRACT A.5 stop reasons).
enum class EbikeStopReason {
    QuotaReached,   ///< `quota_reached`: time/energy limit reached
    Full,           ///< `full`
    NoLoad,         ///< `no_load`
    Unplugged,      ///< `unplugged`
    SocketOverload, ///< `socket_overload`
    DeviceOverload, ///< `device_overload`
    OverTemp,       ///< `over_temp`
    RemoteStop,     ///< `remote_stop`: the platform sent stop_port
    UserStop,       ///< `user_stop`: a button / card at the pile
    PowerLoss,      ///< `power_loss`
    Fault,          ///< `fault`
    Other,          ///< `other`
};
std::string_view to_string(EbikeStopReason r);

/// `conn/{n}/state` data (schema `ebike_conn_state`): `{st, sid, since, faults}`; `n` is in the topic.
struct EbikeConnState {
    EbikeSocketStatus st = EbikeSocketStatus::Idle;
    std::optional<std::string> sid;  ///< the running session, if any
    EpochMs since = 0;               ///< when `st` was entered
    std::vector<std::string> faults; ///< snake_case fault words, at most 32
    bool operator==(const EbikeConnState&) const = default;
};

/// One socket in `tele.data.sockets[]` (sparse: only sockets worth reporting).
struct EbikeSocketTele {
    int n = 1; ///< 1..64
    EbikeSocketStatus st = EbikeSocketStatus::Idle;
    std::optional<double> voltage_v;               ///< 0..500
    std::optional<double> current_a;               ///< 0..100
    double power_w = 0;                            ///< 0..20 000
    std::optional<std::int64_t> session_energy_wh; ///< 0..10 000 000
    std::optional<std::string> sid;
    bool operator==(const EbikeSocketTele&) const = default;
};

/// `tele` data (schema `ebike_tele`): `{temp_c, total_power_w, rssi_dbm, sockets[]}`, at most 64 sockets.
struct EbikeTele {
    std::optional<double> temp_c; ///< -50..200
    double total_power_w = 0;     ///< 0..200 000
    std::optional<int> rssi_dbm;  ///< -150..0
    std::vector<EbikeSocketTele> sockets;
    bool operator==(const EbikeTele&) const = default;
};

/// `evt/card_swipe` data `{card_uid, n}` (schema `ebike_evt_card_swipe`); card_uid `[A-Za-z0-9]{1,32}`.
struct EbikeCardSwipe {
    std::string card_uid;
    int n = 1;
    bool operator==(const EbikeCardSwipe&) const = default;
};

/// `evt/session_started` data `{n, sid, start_ts}` (schema `ebike_evt_session_started`).
struct EbikeSessionStarted {
    int n = 1;
    std::string sid;
    EpochMs start_ts = 0;
    bool operator==(const EbikeSessionStarted&) const = default;
};

/// `evt/session_stopped` data `{n, sid, reason, energy_wh, duration_s, max_power_w}`
/// (schema `ebike_evt_session_stopped`).
struct EbikeSessionStopped {
    int n = 1;
    std::string sid;
    EbikeStopReason reason = EbikeStopReason::Other;
    std::int64_t energy_wh = 0;  ///< 0..10 000 000
    std::int64_t duration_s = 0; ///< 0..2 592 000 (30 days)
    double max_power_w = 0;      ///< 0..20 000
    bool operator==(const EbikeSessionStopped&) const = default;
};

/// `evt/fault` data `{code, bit, active, n}` (schema `ebike_evt_fault`); `n` 0 = whole pile.
struct EbikeFault {
    std::string code; ///< snake_case, at most 32 bytes
    int bit = 0;      ///< 0..31
    bool active = true;
    int n = 0; ///< 0..64
    bool operator==(const EbikeFault&) const = default;
};

/// `req/authorize` data `{card_uid, n}` (schema `ebike_req_authorize`); replied with AuthorizeReply.
struct EbikeAuthorize {
    std::string card_uid;
    int n = 1;
    bool operator==(const EbikeAuthorize&) const = default;
};

/// `req/session_record` data (schema `ebike_req_session_record`): the pile's final record of a
/// session, kept on flash and resent with the same `id` until acknowledged (reply `{status}`).
struct EbikeSessionRecord {
    int n = 1;
    std::string sid;
    EbikeStopReason reason = EbikeStopReason::Other;
    std::int64_t energy_wh = 0;
    std::int64_t duration_s = 0;
    double max_power_w = 0;
    EpochMs start_ts = 0;
    EpochMs stop_ts = 0; ///< >= start_ts
    bool operator==(const EbikeSessionRecord&) const = default;
};

/// `cmd/start_port` data `{n, sid, limit}` (schema `ebike_cmd_start_port`).
struct EbikeStartPort {
    int n = 1;
    std::string sid;
    ChargeLimit limit;
    bool operator==(const EbikeStartPort&) const = default;
};

/// `cmd/stop_port` data `{n, sid}` (schema `ebike_cmd_stop_port`); without `sid` it stops whatever runs.
struct EbikeStopPort {
    int n = 1;
    std::optional<std::string> sid;
    bool operator==(const EbikeStopPort&) const = default;
};

/// `cmd/query_port` data `{n}` (schema `ebike_cmd_query_port`).
struct EbikeQueryPort {
    int n = 1;
    bool operator==(const EbikeQueryPort&) const = default;
};

/// `cmd/query_device` data `{}` (schema `ebike_cmd_query_device`).
struct EbikeQueryDevice {
    bool operator==(const EbikeQueryDevice&) const = default;
};

/// One socket as answered to query_port / query_device: conn state plus live measurements
/// (schema `ebike_cmd_reply_query_port` is a reply whose data is this).
struct EbikePortStatus {
    int n = 1;
    EbikeSocketStatus st = EbikeSocketStatus::Idle;
    std::optional<std::string> sid;
    EpochMs since = 0;
    std::vector<std::string> faults;
    std::optional<double> voltage_v;
    std::optional<double> current_a;
    std::optional<double> power_w;
    std::optional<std::int64_t> session_energy_wh;
    bool operator==(const EbikePortStatus&) const = default;
};

/// query_device reply data: the device state fields flat, plus `sockets[]` (every socket).
struct EbikeDeviceReport {
    DeviceState device;
    std::vector<EbikePortStatus> sockets;
    bool operator==(const EbikeDeviceReport&) const = default;
};

/// A per-socket override in `cfg.socket_overrides[]`, e.g. `{"n": 3, "socket_overload_w": 3500}`.
struct SocketOverride {
    int n = 1;                                     ///< 1..64, unique in the list
    std::optional<std::int64_t> socket_overload_w; ///< 1..10 000
    std::optional<std::int64_t> full_stop_w;       ///< 0..255
    bool operator==(const SocketOverride&) const = default;
};

/// The ebike pile's configuration values (CONTRACT A.5), each with its default. A missing key
/// decodes as its default; encode writes every key.
struct EbikeConfig {
    std::int64_t full_stop_w = 5;                 ///< 0..255
    std::int64_t full_wait_s = 1800;              ///< 0..86 400
    std::int64_t no_load_wait_s = 100;            ///< 0..3 600
    std::int64_t socket_overload_w = 600;         ///< 1..10 000
    std::int64_t device_overload_w = 6000;        ///< 1..200 000
    std::vector<SocketOverride> socket_overrides; ///< at most 64
    std::int64_t temp_warn_c = 60;                ///< 0..150, <= temp_stop_c
    std::int64_t temp_stop_c = 75;                ///< 0..150
    std::int64_t tele_period_s = 60;              ///< 5..3 600
    std::int64_t idle_tele_period_s = 300;        ///< 5..86 400
    bool operator==(const EbikeConfig&) const = default;
};

/// `cfg/desired` data (schema `ebike_cfg_desired`): `version` (>= 1) plus every EbikeConfig key, flat.
struct EbikeCfgDesired {
    std::int64_t version = 1;
    EbikeConfig values;
    bool operator==(const EbikeCfgDesired&) const = default;
};

/// `cfg/reported` data (schema `ebike_cfg_reported`): `{version, status, values, rejected, msg}`;
/// `values` = configuration in force; `rejected` = keys not applied (partial / rejected).
struct EbikeCfgReported {
    std::int64_t version = 0;
    CfgStatus status = CfgStatus::Applied;
    EbikeConfig values;
    std::vector<std::string> rejected;
    std::optional<std::string> msg;
    bool operator==(const EbikeCfgReported&) const = default;
};

// --- traits ---
template <> struct PayloadTraits<EbikeConnState> {
    static constexpr std::string_view kName = "ebike_conn_state";
    static constexpr Flow kFlow = Flow::Status;
    static constexpr std::string_view kLeaf = "conn/{n}/state";
};
template <> struct PayloadTraits<EbikeTele> {
    static constexpr std::string_view kName = "ebike_tele";
    static constexpr Flow kFlow = Flow::Status;
    static constexpr std::string_view kLeaf = "tele";
};
template <> struct PayloadTraits<EbikeCardSwipe> {
    static constexpr std::string_view kName = "ebike_evt_card_swipe";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/card_swipe";
};
template <> struct PayloadTraits<EbikeSessionStarted> {
    static constexpr std::string_view kName = "ebike_evt_session_started";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/session_started";
};
template <> struct PayloadTraits<EbikeSessionStopped> {
    static constexpr std::string_view kName = "ebike_evt_session_stopped";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/session_stopped";
};
template <> struct PayloadTraits<EbikeFault> {
    static constexpr std::string_view kName = "ebike_evt_fault";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/fault";
};
template <> struct PayloadTraits<EbikeAuthorize> {
    static constexpr std::string_view kName = "ebike_req_authorize";
    static constexpr Flow kFlow = Flow::Request;
    static constexpr std::string_view kLeaf = "req/authorize";
    using ReplyData = AuthorizeReply;
};
template <> struct PayloadTraits<EbikeSessionRecord> {
    static constexpr std::string_view kName = "ebike_req_session_record";
    static constexpr Flow kFlow = Flow::Request;
    static constexpr std::string_view kLeaf = "req/session_record";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EbikeStartPort> {
    static constexpr std::string_view kName = "ebike_cmd_start_port";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/start_port";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EbikeStopPort> {
    static constexpr std::string_view kName = "ebike_cmd_stop_port";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/stop_port";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EbikeQueryPort> {
    static constexpr std::string_view kName = "ebike_cmd_query_port";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/query_port";
    using ReplyData = EbikePortStatus;
};
template <> struct PayloadTraits<EbikeQueryDevice> {
    static constexpr std::string_view kName = "ebike_cmd_query_device";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/query_device";
    using ReplyData = EbikeDeviceReport;
};
template <> struct PayloadTraits<Reply<EbikePortStatus>> {
    static constexpr std::string_view kName = "ebike_cmd_reply_query_port";
    static constexpr Flow kFlow = Flow::Reply;
    static constexpr std::string_view kLeaf = "cmd-reply/query_port";
};
template <> struct PayloadTraits<Reply<EbikeDeviceReport>> {
    static constexpr std::string_view kName = "ebike_cmd_reply_query_device";
    static constexpr Flow kFlow = Flow::Reply;
    static constexpr std::string_view kLeaf = "cmd-reply/query_device";
};
template <> struct PayloadTraits<EbikeCfgDesired> {
    static constexpr std::string_view kName = "ebike_cfg_desired";
    static constexpr Flow kFlow = Flow::Config;
    static constexpr std::string_view kLeaf = "cfg/desired";
};
template <> struct PayloadTraits<EbikeCfgReported> {
    static constexpr std::string_view kName = "ebike_cfg_reported";
    static constexpr Flow kFlow = Flow::Config;
    static constexpr std::string_view kLeaf = "cfg/reported";
};

} // namespace pilehub::payloads
