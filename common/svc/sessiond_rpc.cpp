#include "common/svc/codec_detail.hpp"

#include <fmt/format.h>

#include <type_traits>

namespace pilehub::svc {

namespace {

constexpr std::array<std::string_view, kAllStopCauses.size()> kStopCauseWords{
    "user_stop", "full",  "no_load",     "socket_overload", "device_overload",
    "over_temp", "fault", "balance_low", "quota_reached",   "unplugged"};
constexpr std::array<std::string_view, kAllDeviceCommandNames.size()> kCommandWords{
    "query_port", "query_device", "reboot", "set_time", "reset", "unlock", "set_availability", "set_tariff"};

template <typename E, std::size_t N> std::optional<E> parse_word(std::string_view s, const std::array<E, N>& all) {
    for (E e : all)
        if (to_string(e) == s)
            return e;
    return std::nullopt;
}

} // namespace

std::string_view to_string(StopCause c) {
    const auto i = static_cast<std::size_t>(c);
    return i < kStopCauseWords.size() ? kStopCauseWords[i] : std::string_view("?");
}
std::optional<StopCause> parse_stop_cause(std::string_view s) {
    return parse_word(s, kAllStopCauses);
}
bool is_auto_stop(StopCause c) {
    return c != StopCause::UserStop;
}

std::string_view to_string(DeviceCommandName n) {
    const auto i = static_cast<std::size_t>(n);
    return i < kCommandWords.size() ? kCommandWords[i] : std::string_view("?");
}
std::optional<DeviceCommandName> parse_device_command_name(std::string_view s) {
    return parse_word(s, kAllDeviceCommandNames);
}

DeviceCommandName name_of(const DeviceCommand& c) {
    // The alternatives are declared in the order of DeviceCommandName.
    return kAllDeviceCommandNames[c.index()];
}
static_assert(std::variant_size_v<DeviceCommand> == kAllDeviceCommandNames.size());
static_assert(std::is_same_v<std::variant_alternative_t<0, DeviceCommand>, payloads::EbikeQueryPort>);
static_assert(std::is_same_v<std::variant_alternative_t<1, DeviceCommand>, payloads::EbikeQueryDevice>);
static_assert(std::is_same_v<std::variant_alternative_t<2, DeviceCommand>, payloads::CmdReboot>);
static_assert(std::is_same_v<std::variant_alternative_t<3, DeviceCommand>, SetTimeArgs>);
static_assert(std::is_same_v<std::variant_alternative_t<4, DeviceCommand>, payloads::EvReset>);
static_assert(std::is_same_v<std::variant_alternative_t<5, DeviceCommand>, payloads::EvUnlock>);
static_assert(std::is_same_v<std::variant_alternative_t<6, DeviceCommand>, payloads::EvSetAvailability>);
static_assert(std::is_same_v<std::variant_alternative_t<7, DeviceCommand>, payloads::EvSetTariff>);

namespace detail {
namespace {

constexpr std::array<billing::Mode, 3> kModes{billing::Mode::Time, billing::Mode::Power, billing::Mode::Energy};

std::string req_session_id(json::Object& o, std::string_view key) {
    return payloads::detail::req_token(o, key, kMaxSessionIdLen);
}

/// A nested object member read through read_body.
template <typename T> void read_nested(json::Object& o, std::string_view key, T& out) {
    auto n = o.req_obj(key);
    if (n.present())
        read_body(n, *o.raw(key), out);
}

template <typename T> void write_nested(json::Writer& w, std::string_view key, const T& x) {
    w.key(key).begin_object();
    write_body(w, x);
    w.end_object();
}

} // namespace

void read_body(json::Object& o, const rapidjson::Value&, SessionView& out) {
    out.id = req_session_id(o, "id");
    out.state = req_enum(o, "state", kAllSessionStates);
    out.socket = payloads::detail::req_token(o, "socket", kMaxSocketCodeLen);
    out.mode = req_enum(o, "mode", kModes);
    out.minutes = o.opt_int("minutes", kMinMinutes, kMaxMinutes);
    out.method = req_enum(o, "method", kAllSessionMethods);
    out.account_id = o.req_int("account_id", 0); // 0: an operator's session, no rider account
    check_account_of_method(o, out.method, out.account_id);
    out.operator_name = payloads::detail::opt_text(o, "operator", kMaxActorLen);
    out.created_at = payloads::detail::req_ts(o, "created_at");
    out.started_at = payloads::detail::opt_ts(o, "started_at");
    out.ended_at = payloads::detail::opt_ts(o, "ended_at");
    out.energy_wh = o.req_int("energy_wh", 0, payloads::detail::kMaxSessionEnergyWh);
    out.duration_s = o.req_int("duration_s", 0);
    out.max_power_w = o.req_int("max_power_w", 0, static_cast<std::int64_t>(payloads::detail::kMaxDeviceTotalPowerW));
    out.stop_reason = opt_quote(o, "stop_reason", kMaxStopReasonLen);
    out.failure = opt_quote(o, "failure", kMaxFailureLen);
    out.cost_fen = opt_fen(o, "cost_fen", 0, kMaxFen);
    out.max_fen = opt_fen(o, "max_fen", 1, kMaxPrepaidFen);
}

void write_body(json::Writer& w, const SessionView& x) {
    w.field("id", x.id).field("state", to_string(x.state)).field("socket", x.socket);
    w.field("mode", billing::to_string(x.mode)).opt_field("minutes", x.minutes);
    w.field("method", to_string(x.method)).field("account_id", x.account_id).field("created_at", x.created_at);
    w.opt_field("operator", x.operator_name);
    w.opt_field("started_at", x.started_at).opt_field("ended_at", x.ended_at);
    w.field("energy_wh", x.energy_wh).field("duration_s", x.duration_s).field("max_power_w", x.max_power_w);
    w.opt_field("stop_reason", x.stop_reason).opt_field("failure", x.failure);
    if (x.cost_fen)
        w.field("cost_fen", x.cost_fen->value());
    if (x.max_fen)
        w.field("max_fen", x.max_fen->value());
}

void read_body(json::Object& o, const rapidjson::Value& v, StartRequest& out) {
    refuse_unknown(o, v, {"account_id", "socket", "mode", "minutes", "method", "max_fen", "operator"},
                   "a sessiond start request");
    // `method` is optional: `app` (a rider's) or `operator` (commissioning); card sessions start at the pile.
    const auto method = opt_enum(o, "method", kAllSessionMethods).value_or(SessionMethod::App);
    if (method == SessionMethod::Card)
        o.fail("method", "must be app or operator: card sessions start at the pile, not over rpc");
    if (method == SessionMethod::Operator) {
        // Commissioning: an operator's name, no account, time mode for 1..720 minutes, nothing prepaid.
        out.operator_name = payloads::detail::req_text(o, "operator", kMaxActorLen);
        if (o.has("account_id"))
            o.fail("account_id", "is not allowed with method operator: the session has no rider account");
        if (o.has("max_fen"))
            o.fail("max_fen", "is not allowed with method operator: the session is free");
        out.account_id = 0;
    } else {
        if (o.has("operator"))
            o.fail("operator", "is only allowed with method operator");
        out.account_id = o.req_int("account_id", 1);
    }
    out.socket = payloads::detail::req_token(o, "socket", kMaxSocketCodeLen);
    out.mode = req_enum(o, "mode", kModes);
    out.minutes = o.opt_int("minutes", kMinMinutes, kMaxMinutes);
    if (method == SessionMethod::Operator && o.ok() &&
        (out.mode != billing::Mode::Time || !out.minutes || *out.minutes > kMaxCommissioningMinutes))
        o.fail("minutes", fmt::format("method operator runs in time mode for 1..{} minutes", kMaxCommissioningMinutes));
    out.max_fen = opt_fen(o, "max_fen", 1, kMaxPrepaidFen);
}

void write_body(json::Writer& w, const StartRequest& x) {
    if (x.operator_name) {
        w.field("socket", x.socket).field("mode", billing::to_string(x.mode)).opt_field("minutes", x.minutes);
        w.field("method", to_string(SessionMethod::Operator)).field("operator", *x.operator_name);
        return;
    }
    w.field("account_id", x.account_id).field("socket", x.socket).field("mode", billing::to_string(x.mode));
    w.opt_field("minutes", x.minutes).field("method", to_string(SessionMethod::App));
    if (x.max_fen)
        w.field("max_fen", x.max_fen->value());
}

void read_body(json::Object& o, const rapidjson::Value&, StartReply& out) {
    read_nested(o, "session", out.session);
}

void write_body(json::Writer& w, const StartReply& x) {
    write_nested(w, "session", x.session);
}

void read_body(json::Object& o, const rapidjson::Value& v, StopRequest& out) {
    refuse_unknown(o, v, {"session_id", "reason", "actor"}, "a sessiond stop request");
    out.session_id = req_session_id(o, "session_id");
    out.reason = opt_enum(o, "reason", kAllStopCauses).value_or(StopCause::UserStop);
    out.actor = payloads::detail::opt_text(o, "actor", kMaxActorLen).value_or("rider");
}

void write_body(json::Writer& w, const StopRequest& x) {
    w.field("session_id", x.session_id).field("reason", to_string(x.reason)).field("actor", x.actor);
}

void read_body(json::Object& o, const rapidjson::Value& v, ForceEndRequest& out) {
    refuse_unknown(o, v, {"session_id", "operator"}, "a sessiond force_end request");
    out.session_id = req_session_id(o, "session_id");
    out.operator_name = payloads::detail::req_text(o, "operator", kMaxActorLen);
}

void write_body(json::Writer& w, const ForceEndRequest& x) {
    w.field("session_id", x.session_id).field("operator", x.operator_name);
}

void read_body(json::Object& o, const rapidjson::Value&, SessionChangeReply& out) {
    read_nested(o, "session", out.session);
    out.changed = o.req_bool("changed");
}

void write_body(json::Writer& w, const SessionChangeReply& x) {
    write_nested(w, "session", x.session);
    w.field("changed", x.changed);
}

namespace {

/// An EV command's data, strictly: only `members`, read by the device payload's codec.
template <typename C>
C read_ev_command(json::Object& d, const rapidjson::Value& dv, std::initializer_list<std::string_view> members,
                  const std::string& what) {
    refuse_unknown(d, dv, members, what);
    C c;
    payloads::detail::read_data(d, c);
    return c;
}

/// One command's data, strictly: `d` reads `dv` (absent: `{}`).
void read_command(json::Object& d, const rapidjson::Value& dv, DeviceCommandName name, DeviceCommand& out) {
    const auto what = fmt::format("the {} command", to_string(name));
    switch (name) {
    case DeviceCommandName::QueryPort: {
        refuse_unknown(d, dv, {"n"}, what);
        payloads::EbikeQueryPort c;
        payloads::detail::read_data(d, c);
        out = c;
        break;
    }
    case DeviceCommandName::QueryDevice:
        refuse_unknown(d, dv, {}, what);
        out = payloads::EbikeQueryDevice{};
        break;
    case DeviceCommandName::Reboot: {
        refuse_unknown(d, dv, {"when"}, what);
        payloads::CmdReboot c;
        payloads::detail::read_data(d, c);
        out = c;
        break;
    }
    case DeviceCommandName::SetTime:
        refuse_unknown(d, dv, {"epoch_ms"}, what);
        out = SetTimeArgs{payloads::detail::opt_ts(d, "epoch_ms")};
        break;
    case DeviceCommandName::Reset:
        out = read_ev_command<payloads::EvReset>(d, dv, {"type"}, what);
        break;
    case DeviceCommandName::Unlock:
        out = read_ev_command<payloads::EvUnlock>(d, dv, {"n"}, what);
        break;
    case DeviceCommandName::SetAvailability:
        out = read_ev_command<payloads::EvSetAvailability>(d, dv, {"n", "operative"}, what);
        break;
    case DeviceCommandName::SetTariff:
        out = read_ev_command<payloads::EvSetTariff>(d, dv, {"elec_e4", "service_e4", "text"}, what);
        break;
    }
}

} // namespace

void read_body(json::Object& o, const rapidjson::Value& v, DeviceCommandRequest& out) {
    refuse_unknown(o, v, {"device_id", "name", "data", "operator"}, "a sessiond device_command request");
    out.device_id = req_device_id(o, "device_id");
    const auto name = req_enum(o, "name", kAllDeviceCommandNames);
    out.operator_name = payloads::detail::opt_text(o, "operator", kMaxActorLen);
    static const rapidjson::Value kEmpty(rapidjson::kObjectType); // absent `data` is `{}`
    auto d = o.opt_obj("data");
    const rapidjson::Value& dv = d.present() ? *o.raw("data") : kEmpty;
    if (!o.ok())
        return;
    if (!d.present() && name != DeviceCommandName::QueryDevice && name != DeviceCommandName::Reboot &&
        name != DeviceCommandName::SetTime) {
        o.fail("data", fmt::format("is required for {} (it has required members)", to_string(name)));
        return;
    }
    read_command(d, dv, name, out.command);
}

void write_body(json::Writer& w, const DeviceCommandRequest& x) {
    w.field("device_id", x.device_id).field("name", to_string(name_of(x.command))).key("data").begin_object();
    std::visit(
        [&w](const auto& c) {
            using C = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<C, SetTimeArgs>)
                w.opt_field("epoch_ms", c.epoch_ms);
            else
                payloads::detail::write_data(w, c);
        },
        x.command);
    w.end_object().opt_field("operator", x.operator_name);
}

void read_body(json::Object& o, const rapidjson::Value&, QueryPortReply& out) {
    payloads::detail::read_data(o, out.port);
}
void write_body(json::Writer& w, const QueryPortReply& x) {
    payloads::detail::write_data(w, x.port);
}

void read_body(json::Object& o, const rapidjson::Value&, QueryDeviceReply& out) {
    payloads::detail::read_data(o, out.report);
}
void write_body(json::Writer& w, const QueryDeviceReply& x) {
    payloads::detail::write_data(w, x.report);
}

void read_body(json::Object&, const rapidjson::Value&, CommandAck&) {}
void write_body(json::Writer&, const CommandAck&) {}

} // namespace detail

Result<DeviceCommandReply> decode_device_command_reply(DeviceCommandName name, std::string_view data_json) {
    auto wrap = [](auto r) {
        return r ? Result<DeviceCommandReply>(DeviceCommandReply(std::move(r).value()))
                 : Result<DeviceCommandReply>::failure(r.error());
    };
    switch (name) {
    case DeviceCommandName::QueryPort:
        return wrap(decode<QueryPortReply>(data_json));
    case DeviceCommandName::QueryDevice:
        return wrap(decode<QueryDeviceReply>(data_json));
    case DeviceCommandName::Reboot:
    case DeviceCommandName::SetTime:
    case DeviceCommandName::Reset:
    case DeviceCommandName::Unlock:
    case DeviceCommandName::SetAvailability:
    case DeviceCommandName::SetTariff:
        return wrap(decode<CommandAck>(data_json));
    }
    return Result<DeviceCommandReply>::failure("unknown command");
}

Result<DeviceCommand> decode_device_command(DeviceCommandName name, const rapidjson::Value& data) {
    std::string err;
    json::Object d(&data, "data", &err);
    DeviceCommand out = payloads::EbikeQueryDevice{};
    if (err.empty())
        detail::read_command(d, data, name, out);
    if (!err.empty())
        return Result<DeviceCommand>::failure(std::move(err));
    return Result<DeviceCommand>(std::move(out));
}

std::string encode(const DeviceCommandReply& r) {
    return std::visit([](const auto& x) { return encode(x); }, r);
}

} // namespace pilehub::svc

PILEHUB_SVC_INSTANTIATE(pilehub::svc::StartRequest)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::StartReply)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::StopRequest)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::ForceEndRequest)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::SessionChangeReply)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::DeviceCommandRequest)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::QueryPortReply)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::QueryDeviceReply)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::CommandAck)
