#pragma once
#include <optional>
#include <string>
#include <string_view>

/// The only place topic strings are spelled (CONTRACT A.2 and docs/topics.md).
namespace pilehub::topics {

inline constexpr std::string_view kDevRoot = "ph/v1/dev/";
inline constexpr std::string_view kSvcRoot = "ph/v1/svc/";

/// Device ids (and so MQTT usernames and client ids): `[A-Za-z0-9_-]{1,48}`.
bool valid_device_id(std::string_view id);

// --- device topics, ph/v1/dev/{id}/... ---
std::string presence(std::string_view dev);
std::string info(std::string_view dev);
std::string state(std::string_view dev);
std::string conn_state(std::string_view dev, int n);
std::string space_state(std::string_view dev, int n);
std::string tele(std::string_view dev);
std::string evt(std::string_view dev, std::string_view type);
std::string req(std::string_view dev, std::string_view name);
std::string req_reply(std::string_view dev, std::string_view name);
std::string cmd(std::string_view dev, std::string_view name);
std::string cmd_reply(std::string_view dev, std::string_view name);
std::string cfg_desired(std::string_view dev);
std::string cfg_reported(std::string_view dev);
/// Everything under one device: `ph/v1/dev/{id}/#`.
std::string device_all(std::string_view dev);

/// Filters across every device, e.g. `ph/v1/dev/+/presence`, `ph/v1/dev/+/evt/+`.
namespace any_device {
std::string presence();
std::string info();
std::string state();
std::string conn_state();
std::string space_state();
std::string tele();
std::string evt();
std::string req();
std::string cmd_reply();
std::string cfg_reported();
std::string all();
} // namespace any_device

// --- platform topics, ph/v1/svc/... ---
/// A process's retained status (its MQTT Will): `ph/v1/svc/{process}/status`.
std::string svc_status(std::string_view process);
/// Every process status: `ph/v1/svc/+/status`.
std::string any_svc_status();
/// An internal request to `service`: `ph/v1/svc/rpc/{service}/{method}`.
std::string rpc(std::string_view service, std::string_view method);
/// Every request to `service`: `ph/v1/svc/rpc/{service}/+`.
std::string rpc_any(std::string_view service);
/// Where a process receives its replies: `ph/v1/svc/reply/{client id}`.
std::string rpc_reply(std::string_view client_id);
/// A session's transitions: `ph/v1/svc/session/{sid}/state` (operators watch `ph/v1/svc/session/+/state`).
std::string session_state(std::string_view sid);
/// A session's running cost from billingd: `ph/v1/svc/session/{sid}/cost`.
std::string session_cost(std::string_view sid);
/// presenced's verdict on a device, retained: `ph/v1/svc/device/{id}/presence`.
std::string device_presence(std::string_view dev);
/// Every session's transitions: `ph/v1/svc/session/+/state`.
std::string any_session_state();
/// Every session's running cost: `ph/v1/svc/session/+/cost`.
std::string any_session_cost();
/// Every presence verdict: `ph/v1/svc/device/+/presence`.
std::string any_device_presence();
/// recorderd's report of one raw telemetry message, its sockets bound to their sessions:
/// `ph/v1/svc/device/{id}/report`.
std::string device_report(std::string_view dev);
/// Every device report: `ph/v1/svc/device/+/report`.
std::string any_device_report();
/// An alert of one kind (CONTRACT G), not retained: `ph/v1/svc/alert/{kind}`.
std::string alert(std::string_view kind);
/// Every alert: `ph/v1/svc/alert/+`.
std::string all_alerts();

/// The session id in `ph/v1/svc/session/{sid}/state` or `.../cost`; nullopt for any other topic.
std::optional<std::string> session_of(std::string_view topic);
/// The device id in `ph/v1/svc/device/{id}/presence`; nullopt for any other topic or a bad id.
std::optional<std::string> device_of_presence(std::string_view topic);
/// The device id in `ph/v1/svc/device/{id}/report`; nullopt for any other topic or a bad id.
std::optional<std::string> device_of_report(std::string_view topic);

/// What a device topic is.
enum class Leaf {
    Presence,
    Info,
    State,
    ConnState,
    SpaceState,
    Tele,
    Evt,
    Req,
    ReqReply,
    Cmd,
    CmdReply,
    CfgDesired,
    CfgReported,
};

/// A device topic taken apart. `n` is set for conn/space states; `name` for evt/req/cmd leaves.
struct DeviceTopic {
    std::string device_id;
    Leaf leaf;
    int n = 0;
    std::string name;
};

/// Parses `ph/v1/dev/{id}/...`; nullopt for anything that is not exactly a CONTRACT A leaf
/// (bad id, unknown leaf, socket number out of 1..999, extra levels).
std::optional<DeviceTopic> parse_device_topic(std::string_view topic);

/// MQTT topic-filter matching with `+` (one level) and `#` (this level and below, last only).
/// Topics starting with `$` are not matched by a leading wildcard (MQTT 3.1.1 §4.7.2).
bool matches(std::string_view filter, std::string_view topic);
/// Whether `filter` is a well-formed subscription filter.
bool valid_filter(std::string_view filter);

} // namespace pilehub::topics
