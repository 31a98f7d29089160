#include "workers/autostopd/autostopd_store.hpp"

#include "common/tariff.hpp"

#include <fmt/format.h>

namespace pilehub::autostopd {

void apply_tariff(const billing::Tariff& t, SessionTerms& terms) {
    if (t.cap.max_minutes)
        terms.max_minutes = *t.cap.max_minutes;
    if (t.cap.max_fen)
        terms.max_fen = t.cap.max_fen->value();
    if (terms.mode == Mode::Power && t.power && !t.power->tiers.empty()) {
        terms.tier_limit_w = t.power->tiers.back().up_to_w;
        terms.tier_ignore_first_s = t.power->ignore_first_s;
    }
}

std::optional<std::string> apply_tariff(std::string_view document, SessionTerms& terms) {
    auto t = billing::parse_tariff(document);
    if (!t)
        return t.error();
    apply_tariff(*t, terms);
    return std::nullopt;
}

namespace {

/// A kind's configuration values from a `cfg/desired` message or a bare document.
template <typename Desired, typename Reported>
std::optional<decltype(Desired::values)> values_from_document(std::string_view text) {
    if (auto m = payloads::decode<Desired>(text))
        return m->data.values;
    // A bare document (the stored `data`, with or without `version`): read it as the values of a report.
    const auto wrapped =
        fmt::format(R"({{"v":1,"ts":0,"boot":0,"seq":0,"data":{{"version":0,"status":"applied","values":{}}}}})", text);
    if (auto m = payloads::decode<Reported>(wrapped))
        return m->data.values;
    return std::nullopt;
}

} // namespace

std::optional<payloads::EbikeConfig> config_from_document(std::string_view text) {
    return values_from_document<payloads::EbikeCfgDesired, payloads::EbikeCfgReported>(text);
}

std::optional<payloads::EvConfig> ev_config_from_document(std::string_view text) {
    return values_from_document<payloads::EvCfgDesired, payloads::EvCfgReported>(text);
}

std::optional<SessionRow> Store::session(const std::string& sid) {
    db::Statement st(db_, kSqlSession);
    st.bind(1, sid);
    if (!st.step())
        return std::nullopt;
    SessionRow r;
    r.terms.sid = sid;
    r.terms.dev = st.text(0);
    r.terms.n = static_cast<int>(st.int64(1));
    r.terms.mode = billing::parse_mode(st.text(2));
    r.terms.chosen_minutes = st.opt_int64(3);
    // The column's CHECK admits the state words only.
    r.state = svc::parse_session_state(st.text(4)).value_or(svc::SessionState::Failed);
    r.terms.start_ms = st.int64(5);
    const auto station = st.int64(6);
    r.terms.prepaid_fen = st.opt_int64(7);
    r.terms.meter_start_wh = st.opt_int64(8);
    st.reset();
    const auto tariff = tariffs_.for_session(sid);
    if (tariff.tariff)
        apply_tariff(*tariff.tariff, r.terms);
    else if (tariff.id)
        r.tariff_error = tariff.problem;
    else
        r.tariff_error = fmt::format("station {} has no tariff in force", station);
    return r;
}

std::optional<Kind> Store::device_kind(const std::string& dev) {
    db::Statement st(db_, kSqlDeviceKind);
    st.bind(1, dev);
    if (!st.step())
        return std::nullopt;
    const auto k = st.text(0);
    return k == "ebike_pile" ? Kind::EbikePile : k == "ev_charger" ? Kind::EvCharger : Kind::Other;
}

std::optional<std::string> Store::session_on(const std::string& dev, int n) {
    db::Statement st(db_, kSqlSessionOn);
    st.bind(1, dev);
    st.bind(2, static_cast<std::int64_t>(n));
    if (!st.step())
        return std::nullopt;
    return st.text(0);
}

std::optional<DeviceLimits> Store::limits(const std::string& dev) {
    auto kind = device_kind(dev);
    if (!kind)
        return std::nullopt;
    DeviceLimits l;
    l.kind = *kind;
    {
        db::Statement st(db_, kSqlSocketRatings);
        st.bind(1, dev);
        while (st.step())
            l.registry_overload_w[static_cast<int>(st.int64(0))] = st.int64(1);
    }
    db::Statement st(db_, kSqlDesiredConfig);
    st.bind(1, dev);
    if (st.step())
        if (auto text = st.opt_text(0)) {
            if (l.kind == Kind::EvCharger) {
                if (auto c = ev_config_from_document(*text))
                    l.ev_config = *c;
            } else if (auto c = config_from_document(*text)) {
                l.config = *c;
            }
        }
    return l;
}

} // namespace pilehub::autostopd
