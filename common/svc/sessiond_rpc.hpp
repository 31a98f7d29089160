#pragma once
#include "common/money.hpp"
#include "common/payloads.hpp"
#include "common/svc/codec.hpp"
#include "common/svc/session.hpp"
#include "common/svc/session_state.hpp"
#include "common/tariff.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

/// The `data` objects of sessiond's RPC methods, `ph/v1/svc/rpc/sessiond/{method}` (the envelope
/// with `rid`, `reply_to`, `exp` and the reply's `status`, `code`, `msg` is common/rpc.hpp).
/// Requests are strict (an unknown member is refused); replies ignore unknown members.
namespace pilehub::svc {

/// The RPC service name of sessiond (`ph/v1/svc/rpc/sessiond/...`).
inline constexpr std::string_view kSessiondService = "sessiond";

/// A session as sessiond answers it (`session` in the replies of start, stop and force_end).
struct SessionView {
    std::string id;
    SessionState state = SessionState::Starting;
    std::string socket; ///< socket code `<device id>-<n>`, at most 64 bytes
    billing::Mode mode = billing::Mode::Power;
    std::optional<std::int64_t> minutes; ///< time mode: the chosen minutes, 1..2880
    SessionMethod method = SessionMethod::App;
    std::int64_t account_id = 1;
    EpochMs created_at = 0;
    std::optional<EpochMs> started_at; ///< the pile confirmed the start
    std::optional<EpochMs> ended_at;
    std::int64_t energy_wh = 0;               ///< 0..10^7
    std::int64_t duration_s = 0;              ///< ≥ 0
    std::int64_t max_power_w = 0;             ///< whole watts, 0..2 000 000
    std::optional<std::string> stop_reason;   ///< at most 64 bytes
    std::optional<std::string> failure;       ///< why a start failed, at most 512 bytes
    std::optional<Fen> cost_fen;              ///< set by the settlement only
    std::optional<Fen> max_fen;               ///< the rider's prepaid amount, if any (CONTRACT D.1)
    std::optional<std::string> operator_name; ///< wire `operator`: method operator, who started it
    bool operator==(const SessionView&) const = default;
};

// ---- start -----------------------------------------------------------------------------------

/// `start`: a rider starts an app session at a socket (sent by the API).
/// `{"account_id":17,"socket":"P1-3","mode":"time","minutes":120,"method":"app","max_fen":500}`.
/// Only `app` sessions start over RPC (card sessions start at the pile); whether the mode needs
/// `minutes` is the tariff's decision (answered `invalid_mode`), not the codec's.
/// Commissioning (seed 004 远程控制, sent by the API's admin route) is the same method with
/// `"method":"operator"` and the operator's name instead of an account:
/// `{"socket":"P1-3","mode":"time","minutes":10,"method":"operator","operator":"alice"}` (time mode,
/// 1..kMaxCommissioningMinutes, no max_fen): the session is free and charges no wallet.
struct StartRequest {
    std::int64_t account_id = 1; ///< ≥ 1 (0, absent on the wire, for method operator)
    std::string socket;          ///< socket code, `[A-Za-z0-9_.:-]{1,64}`
    billing::Mode mode = billing::Mode::Power;
    std::optional<std::int64_t> minutes;      ///< kMinMinutes..kMaxMinutes
    std::optional<Fen> max_fen;               ///< the rider's prepaid amount, 1..kMaxPrepaidFen (CONTRACT D.1)
    std::optional<std::string> operator_name; ///< wire `operator`: set = method operator (commissioning)
    bool operator==(const StartRequest&) const = default;
};
/// The longest commissioning run an operator may ask for.
inline constexpr std::int64_t kMaxCommissioningMinutes = 720;
template <> struct Traits<StartRequest> {
    static constexpr std::string_view kName = "sessiond_start_request";
    static constexpr std::string_view kTopic = "ph/v1/svc/rpc/sessiond/start";
    static constexpr bool kStrict = true;
    static constexpr std::string_view kMethod = "start"; ///< sessiond's RPC method
};

/// The reply to `start`: `{"session":{...}}`, the new session in `starting`.
struct StartReply {
    SessionView session;
    bool operator==(const StartReply&) const = default;
};
template <> struct Traits<StartReply> {
    static constexpr std::string_view kName = "sessiond_start_reply";
    static constexpr std::string_view kTopic = "ph/v1/svc/reply/{client id} (to start)";
    static constexpr bool kStrict = false;
};

// ---- stop and force_end ------------------------------------------------------------------------

/// Why the platform asks a pile to stop: the rider, or an auto-stop rule (BILLING.md §3).
enum class StopCause {
    UserStop,
    Full,
    NoLoad,
    SocketOverload,
    DeviceOverload,
    OverTemp,
    Fault,
    BalanceLow,
    QuotaReached,
    Unplugged ///< EV: the car was unplugged (`evt/plug_out`) while its session was live
};
inline constexpr std::array<StopCause, 10> kAllStopCauses{
    StopCause::UserStop, StopCause::Full,  StopCause::NoLoad,     StopCause::SocketOverload, StopCause::DeviceOverload,
    StopCause::OverTemp, StopCause::Fault, StopCause::BalanceLow, StopCause::QuotaReached,   StopCause::Unplugged};
/// `user_stop`, `full`, `no_load`, `socket_overload`, `device_overload`, `over_temp`, `fault`,
/// `balance_low`, `quota_reached`, `unplugged`.
std::string_view to_string(StopCause c);
std::optional<StopCause> parse_stop_cause(std::string_view s);
/// Whether the stop is an auto-stop (every cause but `user_stop`): the platform, not the pile,
/// knows why such a session ended, so it becomes the session's stop reason.
bool is_auto_stop(StopCause c);

/// `stop`: stop a session (sent by the API for the rider, by autostopd for its rules).
/// `{"session_id":"S...","reason":"user_stop","actor":"rider"}`; an absent `reason` is
/// `user_stop`, an absent `actor` is `rider`.
struct StopRequest {
    std::string session_id;
    StopCause reason = StopCause::UserStop;
    std::string actor = "rider"; ///< non-empty text, at most 64 bytes
    bool operator==(const StopRequest&) const = default;
};
template <> struct Traits<StopRequest> {
    static constexpr std::string_view kName = "sessiond_stop_request";
    static constexpr std::string_view kTopic = "ph/v1/svc/rpc/sessiond/stop";
    static constexpr bool kStrict = true;
    static constexpr std::string_view kMethod = "stop"; ///< sessiond's RPC method
};

/// `force_end`: an operator ends a session; a suspended or settling one is settled on its last
/// report. `{"session_id":"S...","operator":"alice"}` (sent by the API's admin route).
struct ForceEndRequest {
    std::string session_id;
    std::string operator_name; ///< wire `operator`: non-empty text, at most 64 bytes
    bool operator==(const ForceEndRequest&) const = default;
};
template <> struct Traits<ForceEndRequest> {
    static constexpr std::string_view kName = "sessiond_force_end_request";
    static constexpr std::string_view kTopic = "ph/v1/svc/rpc/sessiond/force_end";
    static constexpr bool kStrict = true;
    static constexpr std::string_view kMethod = "force_end"; ///< sessiond's RPC method
};

/// The reply to `stop` and `force_end`: `{"session":{...},"changed":true}`; `changed` is false
/// when the request moved nothing (a repeated stop).
struct SessionChangeReply {
    SessionView session;
    bool changed = false;
    bool operator==(const SessionChangeReply&) const = default;
};
using StopReply = SessionChangeReply;
using ForceEndReply = SessionChangeReply;
template <> struct Traits<SessionChangeReply> {
    static constexpr std::string_view kName = "sessiond_session_change_reply";
    static constexpr std::string_view kTopic = "ph/v1/svc/reply/{client id} (to stop, force_end)";
    static constexpr bool kStrict = false;
};

// ---- device_command ------------------------------------------------------------------------------

/// The device commands sessiond relays for the API. Another name is answered `unsupported`.
/// query_port and query_device are e-bike pile commands; reset, unlock, set_availability and
/// set_tariff are EV charger commands (CONTRACT A.5, D.1); reboot and set_time go to either kind
/// that has them (sessiond answers `unsupported` for a command the device's kind does not have).
enum class DeviceCommandName { QueryPort, QueryDevice, Reboot, SetTime, Reset, Unlock, SetAvailability, SetTariff };
inline constexpr std::array<DeviceCommandName, 8> kAllDeviceCommandNames{
    DeviceCommandName::QueryPort,       DeviceCommandName::QueryDevice, DeviceCommandName::Reboot,
    DeviceCommandName::SetTime,         DeviceCommandName::Reset,       DeviceCommandName::Unlock,
    DeviceCommandName::SetAvailability, DeviceCommandName::SetTariff};
/// `query_port`, `query_device`, `reboot`, `set_time`, `reset`, `unlock`, `set_availability`,
/// `set_tariff` (the `cmd/{name}` leaf, CONTRACT A.5).
std::string_view to_string(DeviceCommandName n);
std::optional<DeviceCommandName> parse_device_command_name(std::string_view s);

/// set_time's data: `{"epoch_ms":...}`; absent = sessiond's clock when it sends the command.
struct SetTimeArgs {
    std::optional<EpochMs> epoch_ms;
    bool operator==(const SetTimeArgs&) const = default;
};
/// A device command's data, by name: query_port `{n}` (n required), query_device `{}`,
/// reboot `{when?}` (absent = `now`), set_time `{epoch_ms?}`, reset `{type}`, unlock `{n}`,
/// set_availability `{n, operative}`, set_tariff `{elec_e4, service_e4, text?}`.
using DeviceCommand =
    std::variant<payloads::EbikeQueryPort, payloads::EbikeQueryDevice, payloads::CmdReboot, SetTimeArgs,
                 payloads::EvReset, payloads::EvUnlock, payloads::EvSetAvailability, payloads::EvSetTariff>;
/// The name of a command.
DeviceCommandName name_of(const DeviceCommand& c);
/// Reads the data of the command `name` (the `data` member of a device_command request, `{}` when
/// the requester has none), strictly: only that command's members. The reason names the member,
/// e.g. `data.n is required`, `data.n is not a field of the reboot command`. For a requester that
/// takes the name and the data apart (the API's admin route); the request decoder uses it too.
Result<DeviceCommand> decode_device_command(DeviceCommandName name, const rapidjson::Value& data);

/// `device_command`: relay one command to a device and answer with its reply (sent by the API's
/// admin route). `{"device_id":"P1","name":"query_port","data":{"n":3},"operator":"alice"}`;
/// `data` may be absent (= `{}`), and may hold only the members of its command.
struct DeviceCommandRequest {
    std::string device_id; ///< `[A-Za-z0-9_-]{1,48}`
    DeviceCommand command = payloads::EbikeQueryDevice{};
    std::optional<std::string> operator_name; ///< wire `operator`: who asked, for the log
    bool operator==(const DeviceCommandRequest&) const = default;
};
template <> struct Traits<DeviceCommandRequest> {
    static constexpr std::string_view kName = "sessiond_device_command_request";
    static constexpr std::string_view kTopic = "ph/v1/svc/rpc/sessiond/device_command";
    static constexpr bool kStrict = true;
    static constexpr std::string_view kMethod = "device_command"; ///< sessiond's RPC method
};

/// The reply's `status`, `code` and `msg` are the device's; its `data` is the device's reply data:
/// query_port → the socket (QueryPortReply), query_device → the device and every socket
/// (QueryDeviceReply), every other command → `{}` (CommandAck).
struct QueryPortReply {
    payloads::EbikePortStatus port;
    bool operator==(const QueryPortReply&) const = default;
};
template <> struct Traits<QueryPortReply> {
    static constexpr std::string_view kName = "sessiond_device_command_reply_query_port";
    static constexpr std::string_view kTopic = "ph/v1/svc/reply/{client id} (to device_command query_port)";
    static constexpr bool kStrict = false;
};
struct QueryDeviceReply {
    payloads::EbikeDeviceReport report;
    bool operator==(const QueryDeviceReply&) const = default;
};
template <> struct Traits<QueryDeviceReply> {
    static constexpr std::string_view kName = "sessiond_device_command_reply_query_device";
    static constexpr std::string_view kTopic = "ph/v1/svc/reply/{client id} (to device_command query_device)";
    static constexpr bool kStrict = false;
};
struct CommandAck {
    bool operator==(const CommandAck&) const = default;
};
template <> struct Traits<CommandAck> {
    static constexpr std::string_view kName = "sessiond_device_command_reply_ack";
    static constexpr std::string_view kTopic =
        "ph/v1/svc/reply/{client id} (to device_command reboot, set_time and the EV commands)";
    static constexpr bool kStrict = false;
};
/// A device command's reply data, by the command's name.
using DeviceCommandReply = std::variant<QueryPortReply, QueryDeviceReply, CommandAck>;
/// Reads the reply data of the command `name` (the reply itself does not name its command).
Result<DeviceCommandReply> decode_device_command_reply(DeviceCommandName name, std::string_view data_json);
/// Writes whichever reply `r` holds.
std::string encode(const DeviceCommandReply& r);

} // namespace pilehub::svc
