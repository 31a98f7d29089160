#include "doc_fixtures.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

using namespace pilehub;
using namespace pilehub::billing;

namespace {

std::string slots_json(std::string_view period, std::size_t n = kSlotsPerDay) {
    std::string s = "[";
    for (std::size_t i = 0; i < n; ++i)
        s += fmt::format("{}\"{}\"", i ? "," : "", period);
    return s + "]";
}

// A valid tariff with every section; each bad case below changes one thing in it.
std::string base_tariff() {
    return R"({
      "name": "Base", "timezone": "Asia/Shanghai", "modes": ["time", "power", "energy"],
      "time": {"fen_per_hour": 100, "options_minutes": [60, 120]},
      "power": {"tiers": [{"up_to_w": 300, "fen_per_hour": 30}, {"up_to_w": 1000, "fen_per_hour": 57}],
                "ignore_first_s": 60},
      "energy": {"periods": {"flat": {"elec_e4": 7000, "service_e4": 6000}}, "slots": )" +
           slots_json("flat") + R"(, "service_by": "energy"},
      "free_minutes": 5, "cap": {"max_minutes": 720, "max_fen": 1000},
      "min_start_balance_fen": 200, "stop_below_balance_fen": 0})";
}

void merge(rapidjson::Value& into, const rapidjson::Value& patch, rapidjson::Document::AllocatorType& a) {
    for (auto it = patch.MemberBegin(); it != patch.MemberEnd(); ++it) {
        auto found = into.FindMember(it->name);
        if (found != into.MemberEnd() && found->value.IsObject() && it->value.IsObject()) {
            merge(found->value, it->value, a);
        } else if (found != into.MemberEnd()) {
            found->value.CopyFrom(it->value, a);
        } else {
            rapidjson::Value k(it->name, a), v(it->value, a);
            into.AddMember(k, v, a);
        }
    }
}

// The base tariff with `patch` merged in (objects merged member by member, anything else replaced;
// a null value reads as absent).
std::string with(std::string_view patch) {
    rapidjson::Document base, p;
    base.Parse(base_tariff().c_str());
    p.Parse(patch.data(), patch.size());
    REQUIRE_FALSE(base.HasParseError());
    REQUIRE_FALSE(p.HasParseError());
    merge(base, p, base.GetAllocator());
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    base.Accept(w);
    return buf.GetString();
}

struct BadCase {
    const char* why;
    std::string json;
    const char* error; // must appear in the error, naming the field
};

} // namespace

TEST_CASE("tariff: the base document of these tests is valid") {
    const auto t = parse_tariff(base_tariff());
    const bool ok = t.ok();
    REQUIRE_MESSAGE(ok, (ok ? std::string() : t.error()));
    CHECK(t->modes.size() == 3);
    CHECK(t->energy->slots[47] == Period::Flat);
    CHECK(t->min_start_balance_fen == Fen(200));
}

TEST_CASE("tariff: the balance rules default to 2 yuan, as the seeds say (BILLING.md §5)") {
    const auto omitted = parse_tariff(with(R"({"min_start_balance_fen": null, "stop_below_balance_fen": null})"));
    REQUIRE(omitted.ok());
    CHECK(omitted->min_start_balance_fen == Fen(200));
    CHECK(omitted->stop_below_balance_fen == Fen(200));
    CHECK(Tariff{}.min_start_balance_fen == Fen(200));
    CHECK(Tariff{}.stop_below_balance_fen == Fen(200));
    // An explicit 0 is kept: a station may let any wallet start and run to the end.
    const auto zero = parse_tariff(with(R"({"min_start_balance_fen": 0, "stop_below_balance_fen": 0})"));
    REQUIRE(zero.ok());
    CHECK(zero->min_start_balance_fen == Fen(0));
    CHECK(zero->stop_below_balance_fen == Fen(0));
    // Written out, the defaults are explicit.
    const auto again = parse_tariff(to_json(*omitted));
    REQUIRE(again.ok());
    CHECK(again->stop_below_balance_fen == Fen(200));
}

TEST_CASE("tariff: a bad tariff is refused with an error naming the offending field") {
    const std::string s47 = slots_json("flat", 47);
    const std::vector<BadCase> cases = {
        {"47 slots", with(R"({"energy": {"slots": )" + s47 + "}}"), "energy.slots must have 48 entries"},
        {"49 slots", with(R"({"energy": {"slots": )" + slots_json("flat", 49) + "}}"),
         "energy.slots must have 48 entries"},
        {"slot naming an unknown period", with(R"({"energy": {"slots": )" + slots_json("night") + "}}"),
         "energy.slots[0] is \"night\""},
        {"slot naming an undefined period", with(R"({"energy": {"slots": )" + slots_json("sharp") + "}}"),
         "energy.slots[0] is \"sharp\" but energy.periods.sharp is missing"},
        {"tiers not increasing",
         with(R"({"power": {"tiers": [{"up_to_w": 300, "fen_per_hour": 30}, {"up_to_w": 300, "fen_per_hour": 57}]}})"),
         "power.tiers[1].up_to_w must be greater than the previous tier"},
        {"third tier not increasing",
         with(R"({"power": {"tiers": [{"up_to_w": 150, "fen_per_hour": 25}, {"up_to_w": 300, "fen_per_hour": 30},
                                      {"up_to_w": 250, "fen_per_hour": 45}]}})"),
         "power.tiers[2].up_to_w must be greater than the previous tier"},
        {"a higher tier cheaper",
         with(R"({"power": {"tiers": [{"up_to_w": 300, "fen_per_hour": 30}, {"up_to_w": 600, "fen_per_hour": 20}]}})"),
         "power.tiers[1].fen_per_hour must not be lower than the previous tier"},
        {"no tiers", with(R"({"power": {"tiers": []}})"), "power.tiers must list at least one tier"},
        {"tier without a price", with(R"({"power": {"tiers": [{"up_to_w": 300}]}})"),
         "power.tiers[0].fen_per_hour is required"},
        {"tier with an unknown field", with(R"({"power": {"tiers": [{"up_to_w": 300, "fen_per_hour": 3, "w": 1}]}})"),
         "power.tiers[0].w is not a known field"},
        {"zero watts", with(R"({"power": {"tiers": [{"up_to_w": 0, "fen_per_hour": 30}]}})"),
         "power.tiers[0].up_to_w is 0"},
        {"negative hourly price", with(R"({"time": {"fen_per_hour": -100}})"), "time.fen_per_hour is -100"},
        {"absurd hourly price", with(R"({"time": {"fen_per_hour": 100000000}})"), "time.fen_per_hour is 100000000"},
        {"absurd energy price", with(R"({"energy": {"periods": {"flat": {"elec_e4": 2000000}}}})"),
         "energy.periods.flat.elec_e4 is 2000000"},
        {"negative service price", with(R"({"energy": {"periods": {"flat": {"service_e4": -1}}}})"),
         "energy.periods.flat.service_e4 is -1"},
        {"price as text", with(R"({"time": {"fen_per_hour": "100"}})"), "time.fen_per_hour must be a number"},
        {"price with decimals", with(R"({"time": {"fen_per_hour": 1.5}})"), "time.fen_per_hour must be an integer"},
        {"unknown mode", with(R"({"modes": ["time", "turbo"]})"), "modes[1] is \"turbo\""},
        {"repeated mode", with(R"({"modes": ["time", "time"]})"), "modes[1] repeats \"time\""},
        {"no mode", with(R"({"modes": []})"), "modes must list at least one"},
        {"mode listed without its section", with(R"({"time": null})"),
         "modes lists \"time\" but the time section is missing"},
        {"energy mode without its section", with(R"({"energy": null})"),
         "modes lists \"energy\" but the energy section is missing"},
        {"unsupported time zone", with(R"({"timezone": "Europe/Berlin"})"),
         "timezone \"Europe/Berlin\" is not supported"},
        {"no time zone", with(R"({"timezone": null})"), "timezone is required"},
        {"empty name", with(R"({"name": ""})"), "name must not be empty"},
        {"cap over 48 h", with(R"({"cap": {"max_minutes": 3000}})"), "cap.max_minutes is 3000"},
        {"zero cap", with(R"({"cap": {"max_fen": 0}})"), "cap.max_fen is 0"},
        {"option above the cap", with(R"({"cap": {"max_minutes": 90}})"),
         "time.options_minutes[1] (120 min) exceeds cap.max_minutes (90 min)"},
        {"options not increasing", with(R"({"time": {"options_minutes": [120, 60]}})"),
         "time.options_minutes[1] must be greater than the previous option"},
        {"no options", with(R"({"time": {"options_minutes": []}})"), "time.options_minutes must list at least one"},
        {"zero-minute option", with(R"({"time": {"options_minutes": [0, 60]}})"), "time.options_minutes[0] is 0"},
        {"service by hour without its price", with(R"({"energy": {"service_by": "hour"}})"),
         "energy.service_fen_per_hour is required when service_by is hour"},
        {"service charged twice", with(R"({"energy": {"service_by": "hour", "service_fen_per_hour": 20}})"),
         "energy.periods.flat.service_e4 must be 0 when service_by is hour"},
        {"service by power without tiers",
         with(R"({"modes": ["energy"], "power": null, "energy": {"service_by": "power",
                  "periods": {"flat": {"service_e4": 0}}}})"),
         "energy.service_by is power but the power section is missing"},
        {"unknown service_by", with(R"({"energy": {"service_by": "kwh"}})"), "energy.service_by is \"kwh\""},
        {"hourly service price without service_by hour", with(R"({"energy": {"service_fen_per_hour": 20}})"),
         "energy.service_fen_per_hour is only used with service_by hour"},
        {"misspelt field", with(R"({"cap": {"max_fenn": 100}})"), "cap.max_fenn is not a known field"},
        {"misspelt top-level field", with(R"({"free_minute": 5})"), "free_minute is not a known field"},
        {"unknown period name", with(R"({"energy": {"periods": {"night": {"elec_e4": 1}}}})"),
         "energy.periods.night is not a known field"},
        {"negative free minutes", with(R"({"free_minutes": -1})"), "free_minutes is -1"},
        {"spike window too long", with(R"({"power": {"ignore_first_s": 3600}})"), "power.ignore_first_s is 3600"},
        {"negative stop threshold", with(R"({"stop_below_balance_fen": -1})"), "stop_below_balance_fen is -1"},
        {"absurd start balance", with(R"({"min_start_balance_fen": 100000000})"), "min_start_balance_fen is 100000000"},
        {"effective_from not a time", with(R"({"effective_from": "tomorrow"})"), "effective_from is \"tomorrow\""},
        {"effective_from without offset", with(R"({"effective_from": "2024-11-22T00:00:00"})"),
         "effective_from is \"2024-11-22T00:00:00\""},
        {"free not a boolean", with(R"({"free": "yes"})"), "free must be true or false"},
        {"section not an object", with(R"({"cap": 5})"), "cap must be an object"},
        {"not JSON", "{\"name\": ", "malformed JSON"},
        {"not an object", "[1, 2]", "the tariff must be a JSON object"},
    };
    for (const auto& c : cases) {
        INFO("case: ", c.why);
        const auto t = parse_tariff(c.json);
        REQUIRE_FALSE(t.ok());
        INFO("error: ", t.error());
        CHECK(t.error().find(c.error) != std::string::npos);
    }
    CHECK(cases.size() >= 40);
}

TEST_CASE("tariff: a slot that is not a period name is refused at its index") {
    std::string slots = "[";
    for (std::size_t i = 0; i < kSlotsPerDay; ++i)
        slots += i == 0 ? "\"flat\"" : i == 7 ? ",3" : ",\"flat\"";
    const auto t = parse_tariff(with(R"({"energy": {"slots": )" + slots + "]}}"));
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().find("energy.slots[7] must be a string") != std::string::npos);
    std::string named = slots_json("flat");
    named.replace(named.find("\"flat\""), 6, "\"night\"");
    const auto u = parse_tariff(with(R"({"energy": {"slots": )" + named + "}}"));
    REQUIRE_FALSE(u.ok());
    CHECK(u.error().find("energy.slots[0] is \"night\"; it must be one of sharp, peak, flat, valley") !=
          std::string::npos);
}

TEST_CASE("tariff: an embedded tariff's errors carry the path of the embedding document") {
    rapidjson::Document d;
    const std::string body = R"({"tariff": )" + with(R"({"energy": {"slots": ["flat"]}})") + "}";
    d.Parse(body.c_str());
    const auto t = parse_tariff(d["tariff"], "tariff");
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().find("tariff.energy.slots must have 48 entries") != std::string::npos);
    const rapidjson::Value not_object(5);
    CHECK(parse_tariff(not_object, "tariff").error() == "tariff must be an object");
}

TEST_CASE("tariff: validate_tariff checks a tariff built in code by the same rules") {
    auto t = parse_tariff(base_tariff()).value();
    CHECK_FALSE(validate_tariff(t).has_value());
    t.power->tiers[1].up_to_w = 200;
    CHECK(validate_tariff(t).value() == "power.tiers[1].up_to_w must be greater than the previous tier");
    t.power->tiers[1].up_to_w = 1000;
    t.energy->periods[static_cast<std::size_t>(Period::Flat)].reset();
    CHECK(validate_tariff(t).value() == "energy.slots[0] is \"flat\" but energy.periods.flat is missing");
}

TEST_CASE("tariff: a document survives to_json and parse_tariff unchanged") {
    for (const auto& [name, t] : testing::doc_tariffs()) {
        INFO("fixture ", name);
        const auto again = parse_tariff(to_json(t));
        REQUIRE(again.ok());
        CHECK(*again == t);
    }
    auto t = parse_tariff(with(R"({"effective_from": "2024-11-22T00:00:00.250+08:00", "free": true})")).value();
    CHECK(t.effective_from.kind == EffectiveFrom::Kind::At);
    CHECK(to_json(t).find("\"effective_from\":\"2024-11-22T00:00:00.250+08:00\"") != std::string::npos);
    CHECK(parse_tariff(to_json(t)).value() == t);
    t = parse_tariff(with(R"({"effective_from": "now"})")).value();
    CHECK(t.effective_from.kind == EffectiveFrom::Kind::Now);
    CHECK(parse_tariff(to_json(t)).value() == t);
}

TEST_CASE("tariff: defaults — no free minutes, no cap, service by energy, effective by the default rule") {
    const auto t = parse_tariff(R"({"name": "P", "timezone": "UTC", "modes": ["power"],
                                    "power": {"tiers": [{"up_to_w": 500, "fen_per_hour": 40}]}})")
                       .value();
    CHECK(t.free_minutes == 0);
    CHECK_FALSE(t.free);
    CHECK_FALSE(t.cap.max_fen.has_value());
    CHECK_FALSE(t.cap.max_minutes.has_value());
    CHECK(t.power->ignore_first_s == 0);
    CHECK(t.effective_from.kind == EffectiveFrom::Kind::Default);
    CHECK(offers(t, Mode::Power));
    CHECK_FALSE(offers(t, Mode::Time));
}

// ---- time zones ---------------------------------------------------------------------------------

TEST_CASE("time zones: China's zones are fixed at +08:00, UTC at 0, anything else is unknown") {
    for (const char* z : {"Asia/Shanghai", "Asia/Chongqing", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei"})
        CHECK(find_time_zone(z).value().utc_offset_s == 8 * 3600);
    CHECK(find_time_zone("UTC").value().utc_offset_s == 0);
    CHECK(find_time_zone("Etc/UTC").value().utc_offset_s == 0);
    CHECK_FALSE(find_time_zone("Europe/Berlin").has_value());
    CHECK_FALSE(find_time_zone("Asia/Urumqi").has_value());
    CHECK_FALSE(find_time_zone("asia/shanghai").has_value());
    CHECK(supported_time_zones().size() >= 8);
}

TEST_CASE("time zones: RFC 3339 times are read with their offset") {
    const EpochMs utc_midnight = 1'732'147'200'000; // 2024-11-21T00:00:00Z
    CHECK(parse_rfc3339("2024-11-21T00:00:00Z").value() == utc_midnight);
    CHECK(parse_rfc3339("2024-11-21t00:00:00z").value() == utc_midnight);
    CHECK(parse_rfc3339("2024-11-21T08:00:00+08:00").value() == utc_midnight);
    CHECK(parse_rfc3339("2024-11-20T19:30:00-04:30").value() == utc_midnight);
    CHECK(parse_rfc3339("2024-11-21 08:00:00.5+08:00").value() == utc_midnight + 500);
    CHECK(parse_rfc3339("2024-11-21T08:00:00.123456789+08:00").value() == utc_midnight + 123);
    CHECK(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
    for (const char* bad : {"2023-02-29T00:00:00Z", "2024-11-21T24:00:00Z", "2024-11-21T00:00:00", "2024-11-21",
                            "2024-11-21T00:00Z", "2024-13-01T00:00:00Z", "2024-11-21T00:00:00+0800",
                            "2024-11-21T00:00:00.Z", "2024-11-21T00:00:60Z", "x024-11-21T00:00:00Z", ""})
        CHECK_MESSAGE(!parse_rfc3339(bad).has_value(), bad);
}

TEST_CASE("time zones: formatting and local wall times agree with parsing") {
    const EpochMs t = 1'732'147'200'000;
    CHECK(format_rfc3339(t, 8 * 3600) == "2024-11-21T08:00:00+08:00");
    CHECK(format_rfc3339(t, 0) == "2024-11-21T00:00:00Z");
    CHECK(format_rfc3339(t + 7, 0) == "2024-11-21T00:00:00.007Z");
    CHECK(format_rfc3339(-1000, 0) == "1969-12-31T23:59:59Z");
    CHECK(parse_local_datetime("2024-11-21 08:00", 8 * 3600).value() == t);
    CHECK(parse_local_datetime("2024-11-21T08:00:30", 8 * 3600).value() == t + 30'000);
    CHECK_FALSE(parse_local_datetime("2024-11-21 08:00 ", 0).has_value());
    for (EpochMs x = 946'684'800'000; x < 4'102'444'800'000; x += 7'777'777'777)
        CHECK(parse_rfc3339(format_rfc3339(x, 8 * 3600)).value() == x);
}

TEST_CASE("time zones: the next local midnight depends on the zone") {
    const EpochMs afternoon = parse_rfc3339("2024-11-21T15:00:00+08:00").value();
    CHECK(next_local_midnight(afternoon, 8 * 3600) == parse_rfc3339("2024-11-22T00:00:00+08:00").value());
    CHECK(next_local_midnight(afternoon, 0) == parse_rfc3339("2024-11-22T00:00:00Z").value());
    const EpochMs midnight = parse_rfc3339("2024-11-22T00:00:00+08:00").value();
    CHECK(next_local_midnight(midnight, 8 * 3600) == midnight + 86'400'000);
    CHECK(next_local_midnight(midnight - 1, 8 * 3600) == midnight);
}

// ---- versions -----------------------------------------------------------------------------------

TEST_CASE("versions: a station's first tariff is in force at once") {
    const auto t = parse_tariff(base_tariff()).value();
    const EpochMs saved = parse_rfc3339("2024-11-21T15:00:00+08:00").value();
    CHECK(effective_from(t, saved, true) == saved);
}

TEST_CASE("versions: a change takes effect at the next local midnight after it is saved") {
    const auto t = parse_tariff(base_tariff()).value();
    const EpochMs saved = parse_rfc3339("2024-11-21T15:00:00+08:00").value();
    CHECK(effective_from(t, saved, false) == parse_rfc3339("2024-11-22T00:00:00+08:00").value());
    const EpochMs just_before = parse_rfc3339("2024-11-21T23:59:59.999+08:00").value();
    CHECK(effective_from(t, just_before, false) == just_before + 1);
    const EpochMs at_midnight = parse_rfc3339("2024-11-22T00:00:00+08:00").value();
    CHECK(effective_from(t, at_midnight, false) == at_midnight + 86'400'000);
    // The midnight of the tariff's zone, not UTC's: 16:00 UTC is midnight in Shanghai.
    CHECK(format_rfc3339(effective_from(t, saved, false), 0) == "2024-11-21T16:00:00Z");
}

TEST_CASE("versions: \"now\" and an explicit time override the midnight rule, but never reach into the past") {
    const EpochMs saved = parse_rfc3339("2024-11-21T15:00:00+08:00").value();
    const auto now = parse_tariff(with(R"({"effective_from": "now"})")).value();
    CHECK(effective_from(now, saved, false) == saved);
    const auto later = parse_tariff(with(R"({"effective_from": "2024-12-01T06:00:00+08:00"})")).value();
    CHECK(effective_from(later, saved, false) == parse_rfc3339("2024-12-01T06:00:00+08:00").value());
    CHECK(effective_from(later, saved, true) == parse_rfc3339("2024-12-01T06:00:00+08:00").value());
    const auto past = parse_tariff(with(R"({"effective_from": "2024-11-01T00:00:00+08:00"})")).value();
    CHECK(effective_from(past, saved, false) == saved);
}

TEST_CASE("versions: a session is priced by the version in force when it started") {
    const auto t = parse_tariff(base_tariff()).value();
    const auto at = [](const char* s) { return parse_rfc3339(s).value(); };
    std::vector<TariffVersion> v(3);
    v[0] = {1, at("2024-11-01T09:00:00+08:00"), 0, t};
    v[0].effective_from_ms = effective_from(t, v[0].saved_at_ms, true);
    v[1] = {2, at("2024-11-21T15:00:00+08:00"), 0, t};
    v[1].effective_from_ms = effective_from(t, v[1].saved_at_ms, false);
    v[2] = {3, at("2024-11-25T10:00:00+08:00"), 0, t};
    v[2].effective_from_ms = effective_from(t, v[2].saved_at_ms, false);

    CHECK(version_in_force(v, at("2024-10-31T23:00:00+08:00")) == nullptr);
    CHECK(version_in_force(v, at("2024-11-01T09:00:00+08:00"))->id == 1);
    CHECK(version_in_force(v, at("2024-11-21T16:00:00+08:00"))->id == 1); // saved, not yet in effect
    CHECK(version_in_force(v, at("2024-11-21T23:59:59+08:00"))->id == 1);
    CHECK(version_in_force(v, at("2024-11-22T00:00:00+08:00"))->id == 2);
    CHECK(version_in_force(v, at("2024-11-26T00:00:00+08:00"))->id == 3);
    // Order in the list does not matter.
    std::swap(v[0], v[2]);
    CHECK(version_in_force(v, at("2024-11-23T12:00:00+08:00"))->id == 2);
}

TEST_CASE("versions: two versions taking effect at the same time — the later save wins") {
    const auto t = parse_tariff(base_tariff()).value();
    const EpochMs midnight = parse_rfc3339("2024-11-22T00:00:00+08:00").value();
    std::vector<TariffVersion> v = {
        {7, midnight - 5000, midnight, t}, {6, midnight - 1000, midnight, t}, {8, midnight - 1000, midnight, t}};
    CHECK(version_in_force(v, midnight)->id == 8);
    CHECK(version_in_force(v, midnight - 1) == nullptr);
}
