#include "common/payloads/codec_detail.hpp"

#include <array>

namespace pilehub::payloads {

namespace {

Result<std::string> recode_presence(std::string_view text) {
    auto p = decode_presence(text);
    if (!p)
        return Result<std::string>::failure(p.error());
    return Result<std::string>(encode_presence(p.value()));
}

Result<bool> presence_round_trips(std::string_view text) {
    auto a = decode_presence(text);
    if (!a)
        return Result<bool>::failure(a.error());
    auto b = decode_presence(encode_presence(a.value()));
    if (!b)
        return Result<bool>::failure("re-decoding the encoded payload failed: " + b.error());
    return Result<bool>(a.value() == b.value());
}

template <typename T> PayloadCodec entry() {
    return PayloadCodec{PayloadTraits<T>::kName, PayloadTraits<T>::kFlow, PayloadTraits<T>::kLeaf, &detail::recode<T>,
                        &detail::round_trips<T>};
}

template <typename... T> std::vector<PayloadCodec> entries() {
    return {entry<T>()...};
}

} // namespace

const std::vector<PayloadCodec>& payload_codecs() {
    static const std::vector<PayloadCodec> k = [] {
        std::vector<PayloadCodec> v{{"presence", Flow::Status, "presence", &recode_presence, &presence_round_trips}};
        for (auto& e : entries<RawData, Reply<Empty>, DeviceInfo, DeviceState, Reply<AuthorizeReply>, CmdReboot,
                               CmdSetTime, CmdOta, EvtOta>())
            v.push_back(e);
        for (auto& e : entries<EbikeConnState, EbikeTele, EbikeCardSwipe, EbikeSessionStarted, EbikeSessionStopped,
                               EbikeFault, EbikeAuthorize, EbikeSessionRecord, EbikeStartPort, EbikeStopPort,
                               EbikeQueryPort, EbikeQueryDevice, Reply<EbikePortStatus>, Reply<EbikeDeviceReport>,
                               EbikeCfgDesired, EbikeCfgReported>())
            v.push_back(e);
        for (auto& e : entries<EvConnState, EvTele, EvPlugIn, EvPlugOut, EvSessionStarted, EvSessionStopped,
                               EvFaultEvent, EvAuthorize, EvStartSessionReq, Reply<EvStartSessionReply>,
                               EvSessionRecord, EvStartSessionCmd, EvStopSessionCmd, EvReset, EvUnlock,
                               EvSetAvailability, EvSetTariff, EvCfgDesired, EvCfgReported>())
            v.push_back(e);
        for (auto& e : entries<CameraSpaceState, CameraPlate, CameraSpace, CameraLockEvent, CameraLockCmd,
                               Reply<LockState>, CameraSnapshotCmd, Reply<CameraSnapshotResult>>())
            v.push_back(e);
        return v;
    }();
    return k;
}

const PayloadCodec* find_codec(std::string_view name) {
    for (const auto& c : payload_codecs())
        if (c.name == name)
            return &c;
    return nullptr;
}

namespace {

using topics::Leaf;

/// A named leaf (evt/req/req-reply/cmd/cmd-reply) of one device kind and its schema.
struct NamedLeaf {
    DeviceKind kind;
    Leaf leaf;
    std::string_view name;
    std::string_view schema;
};

constexpr auto E = DeviceKind::EbikePile;
constexpr auto V = DeviceKind::EvCharger;
constexpr auto C = DeviceKind::Camera;

constexpr std::array kNamedLeaves{
    NamedLeaf{E, Leaf::Evt, "card_swipe", "ebike_evt_card_swipe"},
    NamedLeaf{E, Leaf::Evt, "session_started", "ebike_evt_session_started"},
    NamedLeaf{E, Leaf::Evt, "session_stopped", "ebike_evt_session_stopped"},
    NamedLeaf{E, Leaf::Evt, "fault", "ebike_evt_fault"},
    NamedLeaf{E, Leaf::Evt, "ota", "evt_ota"},
    NamedLeaf{E, Leaf::Req, "authorize", "ebike_req_authorize"},
    NamedLeaf{E, Leaf::Req, "session_record", "ebike_req_session_record"},
    NamedLeaf{E, Leaf::ReqReply, "authorize", "req_reply_authorize"},
    NamedLeaf{E, Leaf::ReqReply, "session_record", "reply"},
    NamedLeaf{E, Leaf::Cmd, "start_port", "ebike_cmd_start_port"},
    NamedLeaf{E, Leaf::Cmd, "stop_port", "ebike_cmd_stop_port"},
    NamedLeaf{E, Leaf::Cmd, "query_port", "ebike_cmd_query_port"},
    NamedLeaf{E, Leaf::Cmd, "query_device", "ebike_cmd_query_device"},
    NamedLeaf{E, Leaf::Cmd, "reboot", "cmd_reboot"},
    NamedLeaf{E, Leaf::Cmd, "set_time", "cmd_set_time"},
    NamedLeaf{E, Leaf::Cmd, "ota", "cmd_ota"},
    NamedLeaf{E, Leaf::CmdReply, "start_port", "reply"},
    NamedLeaf{E, Leaf::CmdReply, "stop_port", "reply"},
    NamedLeaf{E, Leaf::CmdReply, "query_port", "ebike_cmd_reply_query_port"},
    NamedLeaf{E, Leaf::CmdReply, "query_device", "ebike_cmd_reply_query_device"},
    NamedLeaf{E, Leaf::CmdReply, "reboot", "reply"},
    NamedLeaf{E, Leaf::CmdReply, "set_time", "reply"},
    NamedLeaf{E, Leaf::CmdReply, "ota", "reply"},

    NamedLeaf{V, Leaf::Evt, "plug_in", "ev_evt_plug_in"},
    NamedLeaf{V, Leaf::Evt, "plug_out", "ev_evt_plug_out"},
    NamedLeaf{V, Leaf::Evt, "session_started", "ev_evt_session_started"},
    NamedLeaf{V, Leaf::Evt, "session_stopped", "ev_evt_session_stopped"},
    NamedLeaf{V, Leaf::Evt, "fault", "ev_evt_fault"},
    NamedLeaf{V, Leaf::Evt, "ota", "evt_ota"},
    NamedLeaf{V, Leaf::Req, "authorize", "ev_req_authorize"},
    NamedLeaf{V, Leaf::Req, "start_session", "ev_req_start_session"},
    NamedLeaf{V, Leaf::Req, "session_record", "ev_req_session_record"},
    NamedLeaf{V, Leaf::ReqReply, "authorize", "req_reply_authorize"},
    NamedLeaf{V, Leaf::ReqReply, "start_session", "ev_req_reply_start_session"},
    NamedLeaf{V, Leaf::ReqReply, "session_record", "reply"},
    NamedLeaf{V, Leaf::Cmd, "start_session", "ev_cmd_start_session"},
    NamedLeaf{V, Leaf::Cmd, "stop_session", "ev_cmd_stop_session"},
    NamedLeaf{V, Leaf::Cmd, "reset", "ev_cmd_reset"},
    NamedLeaf{V, Leaf::Cmd, "unlock", "ev_cmd_unlock"},
    NamedLeaf{V, Leaf::Cmd, "set_availability", "ev_cmd_set_availability"},
    NamedLeaf{V, Leaf::Cmd, "set_tariff", "ev_cmd_set_tariff"},
    NamedLeaf{V, Leaf::Cmd, "set_time", "cmd_set_time"},
    NamedLeaf{V, Leaf::Cmd, "ota", "cmd_ota"},
    NamedLeaf{V, Leaf::CmdReply, "start_session", "reply"},
    NamedLeaf{V, Leaf::CmdReply, "stop_session", "reply"},
    NamedLeaf{V, Leaf::CmdReply, "reset", "reply"},
    NamedLeaf{V, Leaf::CmdReply, "unlock", "reply"},
    NamedLeaf{V, Leaf::CmdReply, "set_availability", "reply"},
    NamedLeaf{V, Leaf::CmdReply, "set_tariff", "reply"},
    NamedLeaf{V, Leaf::CmdReply, "set_time", "reply"},
    NamedLeaf{V, Leaf::CmdReply, "ota", "reply"},

    NamedLeaf{C, Leaf::Evt, "plate", "camera_evt_plate"},
    NamedLeaf{C, Leaf::Evt, "space", "camera_evt_space"},
    NamedLeaf{C, Leaf::Evt, "lock", "camera_evt_lock"},
    NamedLeaf{C, Leaf::Evt, "ota", "evt_ota"},
    NamedLeaf{C, Leaf::Cmd, "lock", "camera_cmd_lock"},
    NamedLeaf{C, Leaf::Cmd, "snapshot", "camera_cmd_snapshot"},
    NamedLeaf{C, Leaf::Cmd, "reboot", "cmd_reboot"},
    NamedLeaf{C, Leaf::Cmd, "set_time", "cmd_set_time"},
    NamedLeaf{C, Leaf::CmdReply, "lock", "camera_cmd_reply_lock"},
    NamedLeaf{C, Leaf::CmdReply, "snapshot", "camera_cmd_reply_snapshot"},
    NamedLeaf{C, Leaf::CmdReply, "reboot", "reply"},
    NamedLeaf{C, Leaf::CmdReply, "set_time", "reply"},
};

} // namespace

std::optional<std::string_view> schema_for(DeviceKind kind, const topics::DeviceTopic& topic) {
    switch (topic.leaf) {
    case Leaf::Presence:
        return "presence";
    case Leaf::Info:
        return "info";
    case Leaf::State:
        return "device_state";
    case Leaf::ConnState:
        if (kind == E)
            return "ebike_conn_state";
        if (kind == V)
            return "ev_conn_state";
        return std::nullopt;
    case Leaf::SpaceState:
        if (kind == C)
            return "camera_space_state";
        return std::nullopt;
    case Leaf::Tele:
        if (kind == E)
            return "ebike_tele";
        if (kind == V)
            return "ev_tele";
        return std::nullopt;
    case Leaf::CfgDesired:
        if (kind == E)
            return "ebike_cfg_desired";
        if (kind == V)
            return "ev_cfg_desired";
        return std::nullopt;
    case Leaf::CfgReported:
        if (kind == E)
            return "ebike_cfg_reported";
        if (kind == V)
            return "ev_cfg_reported";
        return std::nullopt;
    case Leaf::Evt:
    case Leaf::Req:
    case Leaf::ReqReply:
    case Leaf::Cmd:
    case Leaf::CmdReply:
        for (const auto& l : kNamedLeaves)
            if (l.kind == kind && l.leaf == topic.leaf && l.name == topic.name)
                return l.schema;
        return std::nullopt;
    }
    return std::nullopt;
}

} // namespace pilehub::payloads
