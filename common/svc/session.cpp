#include "common/svc/codec_detail.hpp"

namespace pilehub::svc {

std::string_view to_string(SessionMethod m) {
    switch (m) {
    case SessionMethod::Card:
        return "card";
    case SessionMethod::Operator:
        return "operator";
    case SessionMethod::App:
        break;
    }
    return "app";
}

std::optional<SessionMethod> parse_session_method(std::string_view s) {
    for (auto m : kAllSessionMethods)
        if (to_string(m) == s)
            return m;
    return std::nullopt;
}

namespace detail {
namespace {

constexpr std::array<billing::Quota, 4> kQuotas{billing::Quota::ChosenTime, billing::Quota::MaxMinutes,
                                                billing::Quota::MaxFen, billing::Quota::Prepaid};

} // namespace

void read_body(json::Object& o, const rapidjson::Value&, SessionTransition& out) {
    using payloads::detail::req_token;
    read_version(o);
    out.sid = req_token(o, "sid", kMaxSessionIdLen);
    out.state = req_enum(o, "state", kAllSessionStates);
    out.prev = opt_enum(o, "prev", kAllSessionStates);
    out.reason = payloads::detail::req_text(o, "reason", kMaxTransitionTextLen);
    out.actor = payloads::detail::req_text(o, "actor", kMaxTransitionTextLen);
    out.ts = payloads::detail::req_ts(o, "ts");
    out.record = o.req_bool("record");
    out.device_id = req_device_id(o, "device_id");
    out.n = payloads::detail::req_n(o, "n", 1, payloads::kMaxSockets);
    out.account_id = o.req_int("account_id", 0); // 0: an operator's session, no rider account
    out.method = req_enum(o, "method", kAllSessionMethods);
    check_account_of_method(o, out.method, out.account_id);
    out.max_fen = opt_fen(o, "max_fen", 1, kMaxPrepaidFen);
    const bool completed = out.state == SessionState::Completed;
    for (auto key : {"cost_fen", "priced_fen", "shortfall_fen"}) {
        if (!o.ok())
            return;
        if (completed && !o.has(key))
            o.fail(key, "is required when state is completed");
        else if (!completed && o.has(key))
            o.fail(key, "is only allowed when state is completed");
    }
    if (completed)
        out.settlement =
            SettlementAmounts{req_fen(o, "cost_fen"), req_fen(o, "priced_fen"), req_fen(o, "shortfall_fen")};
}

void write_body(json::Writer& w, const SessionTransition& x) {
    w.field("v", kVersion).field("sid", x.sid).field("state", to_string(x.state)).key("prev");
    if (x.prev)
        w.value(to_string(*x.prev));
    else
        w.null();
    w.field("reason", x.reason).field("actor", x.actor).field("ts", x.ts).field("record", x.record);
    w.field("device_id", x.device_id).field("n", x.n).field("account_id", x.account_id);
    w.field("method", to_string(x.method));
    if (x.max_fen)
        w.field("max_fen", x.max_fen->value());
    if (x.settlement) {
        w.field("cost_fen", x.settlement->cost_fen.value()).field("priced_fen", x.settlement->priced_fen.value());
        w.field("shortfall_fen", x.settlement->shortfall_fen.value());
    }
}

void read_body(json::Object& o, const rapidjson::Value&, RunningCost& out) {
    read_version(o);
    out.sid = payloads::detail::req_token(o, "sid", kMaxSessionIdLen);
    out.ts = payloads::detail::req_ts(o, "ts");
    out.cost_fen = req_fen(o, "cost_fen");
    out.balance_fen = req_fen(o, "balance_fen", -kMaxFen);
    out.bonus_fen = req_fen(o, "bonus_fen", -kMaxFen);
    out.available_fen = req_fen(o, "available_fen", -kMaxFen);
    out.balance_low = o.req_bool("balance_low");
    out.cap_reached = o.req_bool("cap_reached");
    out.quota = opt_enum(o, "quota", kQuotas);
    out.elapsed_s = o.req_int("elapsed_s", 0);
    out.energy_wh = o.req_int("energy_wh", 0, payloads::detail::kMaxSessionEnergyWh);
    out.error = opt_quote(o, "error", kMaxCostErrorLen);
}

void write_body(json::Writer& w, const RunningCost& x) {
    w.field("v", kVersion).field("sid", x.sid).field("ts", x.ts).field("cost_fen", x.cost_fen.value());
    w.field("balance_fen", x.balance_fen.value()).field("bonus_fen", x.bonus_fen.value());
    w.field("available_fen", x.available_fen.value());
    w.field("balance_low", x.balance_low).field("cap_reached", x.cap_reached);
    if (x.quota)
        w.field("quota", billing::to_string(*x.quota));
    w.field("elapsed_s", x.elapsed_s).field("energy_wh", x.energy_wh).opt_field("error", x.error);
}

} // namespace detail
} // namespace pilehub::svc

PILEHUB_SVC_INSTANTIATE(pilehub::svc::SessionTransition)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::RunningCost)
