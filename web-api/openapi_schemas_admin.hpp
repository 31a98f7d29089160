#pragma once
#include "common/device_lifecycle.hpp"
#include "common/registry.hpp"
#include "common/svc/session_state.hpp"
#include "common/tariff.hpp"
#include "common/tariff_store.hpp"
#include "web-api/routes_common.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Small builders of the JSON Schemas (OpenAPI 3.0 dialect: `nullable: true`, no `$ref`) that the
/// operator routes declare with `Route::returns(...)`, and the shapes several of them share (the rows
/// routes_common.cpp writes). Each builder answers the schema's JSON text.
namespace pilehub::api::oas {

/// Leaf schemas; the `N` forms may also be null.
inline constexpr const char* kInt = R"({"type":"integer"})";
inline constexpr const char* kIntN = R"({"type":"integer","nullable":true})";
inline constexpr const char* kNum = R"({"type":"number"})";
inline constexpr const char* kNumN = R"({"type":"number","nullable":true})";
inline constexpr const char* kStr = R"({"type":"string"})";
inline constexpr const char* kStrN = R"({"type":"string","nullable":true})";
inline constexpr const char* kBool = R"({"type":"boolean"})";
inline constexpr const char* kBoolN = R"({"type":"boolean","nullable":true})";
/// An RFC 3339 time (`when()`), or null.
inline constexpr const char* kTime = R"({"type":"string","format":"date-time"})";
inline constexpr const char* kTimeN = R"({"type":"string","format":"date-time","nullable":true})";
/// A local date `YYYY-MM-DD`.
inline constexpr const char* kDate = R"({"type":"string","format":"date"})";
inline constexpr const char* kDateN = R"({"type":"string","format":"date","nullable":true})";
/// Any JSON object (a stored document such as a tariff), or null.
inline constexpr const char* kAnyObj = R"({"type":"object"})";
inline constexpr const char* kAnyObjN = R"({"type":"object","nullable":true})";
/// Any JSON value.
inline constexpr const char* kAny = R"({})";

/// A member of an object: its name and schema. A name starting with `?` is optional (written only
/// sometimes); every other member is required.
using Member = std::pair<std::string, std::string>;
struct Members : std::vector<Member> {
    using std::vector<Member>::vector;
};

/// `a` followed by `b` (a shared row's members and a route's own).
inline Members operator+(Members a, const Members& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

namespace detail {
inline std::string quote_json(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}
inline std::string object(const Members& members, bool closed, bool nullable) {
    std::string props, req;
    for (const auto& [raw, schema] : members) {
        const bool optional = !raw.empty() && raw[0] == '?';
        const std::string name = optional ? raw.substr(1) : raw;
        props += (props.empty() ? "" : ",") + quote_json(name) + ":" + schema;
        if (!optional)
            req += (req.empty() ? "" : ",") + quote_json(name);
    }
    std::string out = R"({"type":"object")";
    if (nullable)
        out += R"(,"nullable":true)";
    out += R"(,"properties":{)" + props + "}";
    if (!req.empty())
        out += R"(,"required":[)" + req + "]";
    if (closed)
        out += R"(,"additionalProperties":false)";
    return out + "}";
}
} // namespace detail

/// An object of exactly these members (additionalProperties false).
inline std::string obj(const Members& members) {
    return detail::object(members, true, false);
}
/// The same, or null.
inline std::string obj_n(const Members& members) {
    return detail::object(members, true, true);
}
/// An object with at least these members (others may follow).
inline std::string open_obj(const Members& members) {
    return detail::object(members, false, false);
}
/// `schema` (an object's text), or null.
inline std::string nullable(std::string_view schema) {
    return R"({"nullable":true,)" + std::string(schema.substr(1));
}
/// An array of `item`.
inline std::string arr(std::string_view item) {
    return R"({"type":"array","items":)" + std::string(item) + "}";
}
/// A string that is one of `words` (`nullable`: or null).
template <typename Words> std::string words_of(const Words& words, bool nullable = false) {
    std::string list;
    for (const auto& w : words)
        list += (list.empty() ? "" : ",") + detail::quote_json(w);
    return R"({"type":"string",)" + std::string(nullable ? R"("nullable":true,)" : "") + R"("enum":[)" + list + "]}";
}
inline std::string words_of(std::initializer_list<std::string_view> words, bool nullable = false) {
    return words_of<std::initializer_list<std::string_view>>(words, nullable);
}
/// `{key: [item]}`: the lists of the operator routes.
inline std::string list_of(std::string_view key, std::string_view item) {
    return obj({{std::string(key), arr(item)}});
}
/// `{key: [item], total}`: the paged lists that count their rows.
inline std::string counted_list_of(std::string_view key, std::string_view item) {
    return obj({{std::string(key), arr(item)}, {"total", kInt}});
}

// ---- the words of closed lists, from the code that spells them ----

/// A device's `kind`, `protocol` and `lifecycle` words (registry, device_lifecycle).
inline std::string device_kind_words() {
    using registry::DeviceKind;
    return words_of(std::vector<std::string>{registry::to_string(DeviceKind::EbikePile),
                                             registry::to_string(DeviceKind::EvCharger),
                                             registry::to_string(DeviceKind::Camera)});
}
inline std::string protocol_words() {
    return words_of(std::vector<std::string>{registry::to_string(registry::Protocol::Mqtt),
                                             registry::to_string(registry::Protocol::Ocpp16)});
}
inline std::string lifecycle_words() {
    using lifecycle::Stage;
    return words_of(std::vector<std::string>{lifecycle::to_string(Stage::Stock), lifecycle::to_string(Stage::Installed),
                                             lifecycle::to_string(Stage::Retired)});
}
/// A session's `state` (svc::SessionState), `kind` (ebike, ev) and `mode` (billing::Mode).
inline std::string session_state_words() {
    std::vector<std::string> out;
    for (auto st : svc::kAllSessionStates)
        out.emplace_back(svc::to_string(st));
    return words_of(out);
}
inline std::string session_kind_words() {
    return words_of(session_kind_param().one_of);
}
inline std::string mode_words() {
    using billing::Mode;
    return words_of(std::vector<std::string>{std::string(billing::to_string(Mode::Time)),
                                             std::string(billing::to_string(Mode::Power)),
                                             std::string(billing::to_string(Mode::Energy))});
}
/// A tariff version's `level` (station, area, device), or null with `nullable`.
inline std::string level_words(bool nullable = false) {
    using billing::TariffLevel;
    return words_of(std::vector<std::string>{std::string(billing::to_string(TariffLevel::Station)),
                                             std::string(billing::to_string(TariffLevel::Area)),
                                             std::string(billing::to_string(TariffLevel::Device))},
                    nullable);
}
/// A time-of-use period (billing::Period).
inline std::string period_words() {
    using billing::Period;
    return words_of(std::vector<std::string>{
        std::string(billing::to_string(Period::Sharp)), std::string(billing::to_string(Period::Peak)),
        std::string(billing::to_string(Period::Flat)), std::string(billing::to_string(Period::Valley))});
}

// ---- the rows routes_common.cpp writes ----

/// write_station.
inline Members station_members() {
    return {{"id", kInt},       {"name", kStr},       {"address", kStr},    {"lat", kNum},
            {"lon", kNum},      {"open_hours", kStr}, {"timezone", kStr},   {"property_id", kIntN},
            {"enabled", kBool}, {"visible", kBool},   {"created_at", kTime}};
}
/// write_device.
inline Members device_members() {
    return {{"id", kStr},
            {"kind", device_kind_words()},
            {"protocol", protocol_words()},
            {"name", kStr},
            {"model", kStr},
            {"station_id", kIntN},
            {"area_id", kIntN},
            {"port_count", kInt},
            {"enabled", kBool},
            {"visible", kBool},
            {"factory_id", kStrN},
            {"sim", kStrN},
            {"ip", kStrN},
            {"created_at", kTime},
            {"lifecycle", lifecycle_words()},
            {"model_id", kIntN},
            {"produced_on", kDateN},
            {"installed_at", kTimeN},
            {"retired_at", kTimeN}};
}
/// write_tariff_row.
inline std::string tariff_row() {
    return obj({{"id", kInt},
                {"version", kInt},
                {"level", level_words()},
                {"station_id", kInt},
                {"area_id", kIntN},
                {"device_id", kStrN},
                {"scheme_id", kIntN},
                {"effective_from", kTime},
                {"created_at", kTime},
                {"created_by", kStr},
                {"tariff", kAnyObjN}});
}
/// write_account.
inline Members account_members() {
    return {{"id", kInt},
            {"phone", kStr},
            {"name", kStr},
            {"frozen", kBool},
            {"home_station_id", kIntN},
            {"created_at", kTime},
            {"wallet", obj({{"balance_fen", kInt}, {"bonus_fen", kInt}, {"arrears_fen", kInt}})}};
}
/// write_ledger_entry (`with_account`: account_id and phone too).
inline std::string ledger_entry(bool with_account) {
    Members m{{"id", kInt},
              {"kind", words_of(ledger_kind_words())},
              {"real_fen", kInt},
              {"bonus_fen", kInt},
              {"real_after", kInt},
              {"bonus_after", kInt},
              {"ref", kStr},
              {"operator", kStr},
              {"note", kStr},
              {"at", kTime},
              {"idempotency_key", kStr}};
    if (with_account)
        m = m + Members{{"account_id", kInt}, {"phone", kStr}};
    return obj(m);
}
/// write_card.
inline std::string card() {
    return obj({{"card_no", kStr},
                {"name", kStr},
                {"status", kStr},
                {"account_id", kIntN},
                {"fee_fen", kInt},
                {"issued_at", kTime},
                {"bound_at", kTimeN},
                {"station_id", kIntN}});
}
/// write_payment.
inline std::string payment() {
    return obj({{"id", kStr},
                {"amount_fen", kInt},
                {"bonus_fen", kInt},
                {"package_id", kIntN},
                {"provider", kStr},
                {"status", kStr},
                {"created_at", kTime},
                {"paid_at", kTimeN}});
}
/// write_session as the operator sees it (admin true).
inline Members session_members() {
    return {{"id", kStr},
            {"state", session_state_words()},
            {"socket", kStr},
            {"device_id", kStr},
            {"n", kInt},
            {"station_id", kInt},
            {"kind", session_kind_words()},
            {"mode", mode_words()},
            {"?minutes", kInt},
            {"method", kStr},
            {"max_fen", kIntN},
            {"soc_pct", kIntN},
            {"created_at", kTime},
            {"started_at", kTimeN},
            {"ended_at", kTimeN},
            {"power_w", kInt},
            {"energy_wh", kInt},
            {"duration_s", kInt},
            {"cost_fen", kIntN},
            {"settled", kBool},
            {"electricity_fen", kIntN},
            {"service_fen", kIntN},
            {"stop_reason", kStrN},
            {"max_power_w", kInt},
            {"?failure", kStr},
            {"account_id", kInt},
            {"phone", kStr},
            {"?operator", kStr},
            {"?card_no", kStr},
            {"?tariff_id", kInt},
            {"?stop_requested", kStr},
            {"last_report_at", kTimeN}};
}
/// billing::write_bill (a priced session: the quote, a session's bill).
inline std::string bill() {
    const auto line = obj({{"kind", kStr},
                           {"text", kStr},
                           {"fen", kInt},
                           {"exact_units", kInt},
                           {"?seconds", kInt},
                           {"?energy_mwh", kInt},
                           {"?period", period_words()},
                           {"?from_ms", kInt},
                           {"?to_ms", kInt}});
    return obj({{"cost_fen", kInt},
                {"electricity_fen", kInt},
                {"service_fen", kInt},
                {"exact_units", kInt},
                {"units_per_fen", kInt},
                {"lines", arr(line)},
                {"warnings", arr(kStr)},
                {"overload", kBool},
                {"waived", kBool},
                {"cap_applied", kBool},
                {"prepaid_applied", kBool},
                {"time_limited", kBool},
                {"elapsed_s", kInt},
                {"charged_s", kInt},
                {"energy_mwh", kInt},
                {"max_power_w", kInt}});
}
/// write_curve's member `curve`: `[{t, power_w, energy_wh}]`.
inline std::string curve() {
    return arr(obj({{"t", kTime}, {"power_w", kInt}, {"energy_wh", kInt}}));
}

} // namespace pilehub::api::oas
