// Cars end to end (CONTRACT A.5 `ev_charger`, D.1; issue 10): a real Mosquitto, pilehub-sim playing EV
// chargers EV1 (DC, 2 guns) and EV2 (AC) beside the e-bike piles of the same station, the real sessiond,
// recorderd, billingd, presenced and autostopd (sessions_world.hpp), and the test as the API. EV3 is a
// charger the test plays itself with raw MQTT, to send the same record twice.
#include "tests/integration/sessions_world.hpp"
#include "tests/support/json_path.hpp"

#include <set>

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

constexpr std::int64_t kHalfHourMs = 30 * 60'000;
constexpr std::int64_t kShanghaiMs = 8 * 3'600'000;

/// The e-bike tariff of the car park's station: time mode without free minutes, so that a session of a
/// minute costs something that can be checked (BILLING §2: minutes × fen_per_hour / 60).
constexpr const char* kBikeTariff = R"({
  "name": "Residential e-bike", "timezone": "Asia/Shanghai", "modes": ["time", "power"],
  "time":  {"fen_per_hour": 100, "options_minutes": [60, 120]},
  "power": {"tiers": [{"up_to_w": 300, "fen_per_hour": 30}, {"up_to_w": 1000, "fen_per_hour": 57}],
            "ignore_first_s": 60},
  "min_start_balance_fen": 200, "stop_below_balance_fen": 0})";

/// A shift of the children's clocks that puts a local half-hour boundary `lead_ms` ahead of now.
struct ClockShift {
    std::int64_t offset_s = 0;                      ///< for WorldOptions::clock_offset_s (negative)
    EpochMs boundary_ms = 0;                        ///< the boundary on the children's (shifted) clock
    std::chrono::steady_clock::time_point boundary; ///< when it comes, on the test's clock
};
/// Backwards (the children's clocks run behind the test's), so that what the test sends with its own
/// clock (an rpc request's `exp`) is never already past for them.
ClockShift shift_to_boundary(std::int64_t lead_ms) {
    const auto now = SystemClock::instance().now_ms();
    const auto steady = std::chrono::steady_clock::now();
    const auto slot_start = now - (now + kShanghaiMs) % kHalfHourMs; // a local half-hour boundary
    ClockShift c;
    c.offset_s = -(now - slot_start + lead_ms) / 1000;
    c.boundary_ms = slot_start;
    c.boundary = steady + std::chrono::milliseconds(slot_start - c.offset_s * 1000 - now);
    return c;
}

WorldOptions cars(const char* name, double speed) {
    WorldOptions o;
    o.name = name;
    o.speed = speed;
    o.tele_period_s = 2;
    o.full_stack = true;
    o.cars = true;
    o.tariff = kBikeTariff;
    o.account_fen = 100'000; // 1000 yuan: a car's charge
    return o;
}

/// The settlement's bill of `sid`.
rapidjson::Document bill_of(World& w, const std::string& sid) {
    const auto text = w.text("SELECT bill FROM settlements WHERE session_id = ?1", sid);
    auto doc = json::parse(text);
    REQUIRE_MESSAGE(doc.ok(), "no bill for " << sid << ": " << text);
    return std::move(doc).value();
}

struct Line {
    std::string kind;
    std::string period;
    std::int64_t energy_mwh = 0;
    std::int64_t exact_units = 0;
};
std::vector<Line> lines_of(const rapidjson::Document& bill) {
    std::vector<Line> out;
    const auto* lines = test::json_at(bill, "lines");
    REQUIRE((lines && lines->IsArray()));
    for (const auto& l : lines->GetArray()) {
        Line x;
        x.kind = l["kind"].GetString();
        if (l.HasMember("period"))
            x.period = l["period"].GetString();
        if (l.HasMember("energy_mwh"))
            x.energy_mwh = l["energy_mwh"].GetInt64();
        x.exact_units = l["exact_units"].GetInt64();
        out.push_back(x);
    }
    return out;
}

std::string start_json(std::int64_t account, const std::string& socket, const std::string& mode,
                       std::optional<std::int64_t> max_fen = std::nullopt) {
    return fmt::format(R"({{"account_id":{},"socket":"{}","mode":"{}"{}}})", account, socket, mode,
                       max_fen ? fmt::format(R"(,"max_fen":{})", *max_fen) : "");
}

std::string start_ok(World& w, const std::string& json) {
    const auto r = w.call("start", json);
    REQUIRE_MESSAGE(r.ok(), r.status << " " << r.code << " " << r.msg << "\n" << w.logs());
    return World::session_id_of(r.data_json);
}

} // namespace

TEST_CASE("EV sessions: a rider's energy session runs to full by SoC across a TOU slot boundary and is billed per "
          "period with electricity and service lines, while an e-bike at the same station is billed by time") {
    // Every child's clock says a local half hour ends 40 s from now: valley (0.35 + 0.40) before, peak
    // (1.00 + 0.80 yuan/kWh) after.
    const auto shift = shift_to_boundary(40'000);
    auto o = cars("ev-tou", 20);
    o.clock_offset_s = shift.offset_s;
    World w(o);
    const auto car = start_ok(w, start_json(w.accounts.at(0), "EV1-1", "energy"));
    const auto bike = start_ok(w, World::start_json(w.accounts.at(1), "P1-1", "time", 60));
    REQUIRE_MESSAGE(w.wait_state(car, "charging", 15s), w.logs());
    REQUIRE(w.wait_state(bike, "charging", 15s));
    REQUIRE_MESSAGE(w.number("SELECT started_at FROM sessions WHERE id = ?1", car) < shift.boundary_ms,
                    "the world took too long to start: the session began after the boundary");
    // Past the boundary, the car is nearly full: it fills up and autostopd stops it.
    std::this_thread::sleep_until(shift.boundary + 10s);
    w.control("soc EV1 1 99");
    REQUIRE_MESSAGE(w.wait_state(car, "completed", 60s), w.logs());
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", car) == "full");
    CHECK(w.text("SELECT stop_requested FROM sessions WHERE id = ?1", car) == "full");

    // The bill, by hand: each slot's electricity and service at its period's price; nothing else.
    const auto meter = w.number("SELECT meter_stop_wh - meter_start_wh FROM sessions WHERE id = ?1", car);
    CHECK(meter == w.number("SELECT energy_wh FROM sessions WHERE id = ?1", car));
    REQUIRE(meter > 0);
    const auto bill = bill_of(w, car);
    std::int64_t energy_mwh = 0, units = 0, elec_units = 0;
    std::set<std::string> periods;
    for (const auto& l : lines_of(bill)) {
        const bool peak = l.period == "peak";
        if (l.kind == "energy") {
            CHECK(l.exact_units == l.energy_mwh * (peak ? 10'000 : 3'500) * 9); // mWh × e4 → 1/900 000 000 fen
            energy_mwh += l.energy_mwh;
            elec_units += l.exact_units;
            periods.insert(l.period);
        } else if (l.kind == "service") {
            CHECK(l.exact_units == l.energy_mwh * (peak ? 8'000 : 4'000) * 9);
        } else {
            CHECK_MESSAGE(l.kind == "note", "unexpected line " << l.kind);
        }
        units += l.exact_units;
    }
    CHECK(periods == std::set<std::string>{"valley", "peak"}); // across the boundary
    CHECK(energy_mwh == meter * 1000);
    const auto priced = w.number("SELECT priced_fen FROM settlements WHERE session_id = ?1", car);
    CHECK(priced == units / 900'000'000); // rounded once, down
    CHECK(w.number("SELECT electricity_fen FROM settlements WHERE session_id = ?1", car) ==
          std::min(elec_units / 900'000'000, priced));
    CHECK(w.number("SELECT electricity_fen + service_fen FROM settlements WHERE session_id = ?1", car) == priced);
    CHECK(w.number("SELECT cost_fen FROM sessions WHERE id = ?1", car) == priced);

    // The e-bike beside it: stopped by its rider, charged by the minute at 100 fen/h.
    REQUIRE(w.call("stop", fmt::format(R"({{"session_id":"{}"}})", bike)).ok());
    REQUIRE_MESSAGE(w.wait_state(bike, "completed", 30s), w.logs());
    const auto bike_bill = bill_of(w, bike);
    const auto charged_s = test::json_at(bike_bill, "charged_s")->GetInt64();
    CHECK(charged_s >= 50);
    CHECK(w.number("SELECT cost_fen FROM sessions WHERE id = ?1", bike) == charged_s * 100 / 3600);
    CHECK(w.number("SELECT count(*) FROM settlements WHERE session_id IN (?1)", car) == 1);
}

TEST_CASE("EV sessions: the rider's prepaid amount stops the session as quota_reached and bounds its cost; a car that "
          "sleeps is stopped as no_load and costs 0; unplugging ends a session as unplugged") {
    World w(cars("ev-stops", 30));
    // A fast DC gun and a 5 yuan prepaid amount.
    const auto prepaid = start_ok(w, start_json(w.accounts.at(0), "EV1-1", "energy", 500));
    // The AC gun's car is asleep: it draws nothing. Its charger is told to wait 5 s for energy (cfg/desired,
    // as the operator's PUT /admin/devices/EV2/config publishes it) and reports it in force.
    w.publish({topics::cfg_desired("EV2"),
               fmt::format(R"({{"v":1,"ts":{},"boot":0,"seq":1,"data":{{"version":2,"ev_full_wait_s":180,)"
                           R"("ev_no_load_wait_s":5,"temp_warn_c":70,"temp_stop_c":85,"tele_period_s":30,)"
                           R"("idle_tele_period_s":300}}}})",
                           SystemClock::instance().now_ms()),
               1, true});
    REQUIRE_MESSAGE(w.inbox.wait_for(topics::cfg_reported("EV2"), R"("version":2)", 10s).has_value(), w.logs());
    w.control("noload EV2 1");
    const auto asleep = start_ok(w, start_json(w.accounts.at(1), "EV2-1", "energy"));
    REQUIRE_MESSAGE(w.wait_state(prepaid, "completed", 90s), w.logs());
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", prepaid) == "quota_reached");
    CHECK(w.number("SELECT cost_fen FROM sessions WHERE id = ?1", prepaid) == 500);
    CHECK(w.number("SELECT priced_fen FROM settlements WHERE session_id = ?1", prepaid) == 500);

    REQUIRE_MESSAGE(w.wait_state(asleep, "completed", 60s), w.logs());
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", asleep) == "no_load");
    CHECK(w.number("SELECT cost_fen FROM sessions WHERE id = ?1", asleep) == 0);

    const auto unplugged = start_ok(w, start_json(w.accounts.at(2), "EV1-2", "energy"));
    REQUIRE_MESSAGE(w.wait_state(unplugged, "charging", 15s), w.logs());
    REQUIRE(w.eventually([&] { return w.number("SELECT energy_wh FROM sessions WHERE id = ?1", unplugged) > 0; }, 15s));
    w.control("unplug EV1 2");
    REQUIRE_MESSAGE(w.wait_state(unplugged, "completed", 30s), w.logs());
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", unplugged) == "unplugged");
    CHECK(w.number("SELECT cost_fen FROM sessions WHERE id = ?1", unplugged) > 0);
}

TEST_CASE("EV sessions: a card at the charger starts a card session of its account, an unknown tag is rejected, and "
          "one app plus one card session per account holds across e-bikes and cars") {
    World w(cars("ev-cards", 10));
    const auto owner = w.accounts.at(0); // CARD0001 is bound to it
    const auto app = start_ok(w, World::start_json(owner, "P1-1", "time", 60));
    REQUIRE(w.wait_state(app, "charging", 15s));
    w.control("swipe EV1 1 CARD0001");
    REQUIRE_MESSAGE(
        w.eventually([&] { return w.number("SELECT count(*) FROM sessions WHERE method = 'card'") == 1; }, 15s),
        w.logs());
    const auto card = w.text("SELECT id FROM sessions WHERE method = 'card'");
    CHECK(w.number("SELECT account_id FROM sessions WHERE id = ?1", card) == owner);
    CHECK(w.text("SELECT card_no FROM sessions WHERE id = ?1", card) == "CARD0001");
    CHECK(w.text("SELECT device_id || '-' || n FROM sessions WHERE id = ?1", card) == "EV1-1");
    REQUIRE_MESSAGE(w.wait_state(card, "charging", 15s), w.logs());
    CHECK(w.number("SELECT meter_start_wh IS NOT NULL FROM sessions WHERE id = ?1", card) == 1);
    // The account's app slot is taken (by the e-bike) and so is its card slot (by the car).
    const auto second_app = w.call("start", start_json(owner, "EV1-2", "energy"));
    CHECK(second_app.code == "session_limit");
    w.control("swipe EV2 1 CARD0001");
    REQUIRE(w.inbox.wait_for(topics::req_reply("EV2", "authorize"), "session_limit", 15s).has_value());
    // A tag nobody issued.
    w.control("swipe EV1 2 NOSUCHTAG");
    REQUIRE(w.inbox.wait_for(topics::req_reply("EV1", "authorize"), "unknown_card", 15s).has_value());
    CHECK(w.number("SELECT count(*) FROM sessions WHERE method = 'card'") == 1);
    // The same card at its gun again ends its session (the charger's own `local` stop).
    w.control("swipe EV1 1 CARD0001");
    REQUIRE_MESSAGE(w.wait_state(card, "completed", 30s), w.logs());
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", card) == "user_stop");
}

TEST_CASE("EV sessions: a charger dropping mid-session suspends it, comes back with its record and is settled once; "
          "the same record sent again changes nothing") {
    World w(cars("ev-outage", 10));
    const auto sid = start_ok(w, start_json(w.accounts.at(0), "EV1-1", "energy"));
    REQUIRE_MESSAGE(w.wait_state(sid, "charging", 15s), w.logs());
    REQUIRE(w.eventually([&] { return w.number("SELECT energy_wh FROM sessions WHERE id = ?1", sid) > 0; }, 15s));
    w.control("disconnect EV1 6");
    REQUIRE_MESSAGE(w.wait_state(sid, "suspended", 15s), w.logs());
    // Stopped while away: the stop reaches the charger when it is back, and its record settles it.
    REQUIRE(w.call("stop", fmt::format(R"({{"session_id":"{}"}})", sid)).ok());
    REQUIRE_MESSAGE(w.wait_state(sid, "completed", 40s), w.logs());
    CHECK(w.number("SELECT count(*) FROM settlements WHERE session_id = ?1", sid) == 1);
    CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 1);
    CHECK(w.number("SELECT energy_wh = meter_stop_wh - meter_start_wh FROM sessions WHERE id = ?1", sid) == 1);

    // EV3, played here: a card session started at the charger, then its record twice (an outage lost
    // the first acknowledgement).
    auto ev3 = mqtt::make_client(w.broker().client_options("EV3"));
    test::Inbox in;
    mqtt::Router router;
    router.add(*ev3, topics::req_reply("EV3", "+"), 1, in.handler());
    router.attach(*ev3);
    ev3->start();
    REQUIRE(ev3->wait_ready(10s));
    auto now = [] { return SystemClock::instance().now_ms(); };
    REQUIRE(ev3->publish({topics::presence("EV3"), R"({"v":1,"online":true,"boot":1})", 1, true}));
    REQUIRE(ev3->publish({topics::req("EV3", "start_session"),
                          fmt::format(R"({{"v":1,"ts":{},"boot":1,"seq":1,"id":"EV3-1-1","rid":"EV3-1-1",)"
                                      R"("data":{{"n":1,"id_tag":"CARD0001","meter_start_wh":40000}}}})",
                                      now()),
                          1, false}));
    const auto reply = in.wait_for(topics::req_reply("EV3", "start_session"), "EV3-1-1", 10s);
    REQUIRE_MESSAGE(reply.has_value(), w.logs());
    auto doc = json::parse(reply->payload);
    REQUIRE(doc.ok());
    const auto* sid3 = test::json_at(*doc, "data.sid");
    REQUIRE_MESSAGE((sid3 && sid3->IsString()), reply->payload);
    const std::string card = sid3->GetString();
    REQUIRE(w.wait_state(card, "charging", 10s));
    const auto start_ts = now() - 60'000;
    const auto record = fmt::format(R"({{"v":1,"ts":{},"boot":1,"seq":2,"id":"EV3-1-2","rid":"EV3-1-2","data":)"
                                    R"({{"n":1,"sid":"{}","reason":"local","meter_start_wh":40000,)"
                                    R"("meter_stop_wh":41000,"start_ts":{},"stop_ts":{}}}}})",
                                    now(), card, start_ts, now());
    REQUIRE(ev3->publish({topics::req("EV3", "session_record"), record, 1, false}));
    REQUIRE(in.wait_for(topics::req_reply("EV3", "session_record"), R"("status":"ok")", 10s).has_value());
    REQUIRE_MESSAGE(w.wait_state(card, "completed", 15s), w.logs());
    const auto cost = w.number("SELECT cost_fen FROM sessions WHERE id = ?1", card);
    const auto events = w.number("SELECT count(*) FROM session_events WHERE session_id = ?1", card);
    REQUIRE(ev3->publish({topics::req("EV3", "session_record"), record, 1, false}));
    REQUIRE(w.eventually(
        [&] {
            int oks = 0;
            for (const auto& m : in.messages())
                oks += m.topic == topics::req_reply("EV3", "session_record") ? 1 : 0;
            return oks == 2;
        },
        10s));
    CHECK(w.number("SELECT count(*) FROM session_events WHERE session_id = ?1", card) == events);
    CHECK(w.number("SELECT cost_fen FROM sessions WHERE id = ?1", card) == cost);
    CHECK(w.number("SELECT energy_wh FROM sessions WHERE id = ?1", card) == 1000);
    CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", card) == 1);
    ev3->stop(std::nullopt);
}

TEST_CASE("EV sessions: every operator command reaches the charger and is answered with the charger's reply") {
    World w(cars("ev-commands", 10));
    struct Case {
        const char* name;
        const char* data;
        const char* status;
    };
    const Case cases[] = {
        {"set_time", R"({"epoch_ms":1732183200000})", "ok"},
        {"set_tariff", R"({"elec_e4":7000,"service_e4":6000,"text":"flat"})", "ok"},
        {"unlock", R"({"n":1})", "ok"},
        {"set_availability", R"({"n":1,"operative":false})", "ok"},
        {"set_availability", R"({"n":9,"operative":true})", "invalid"}, // no gun 9: the charger says so
    };
    for (const auto& c : cases) {
        const auto r = w.call(
            "device_command",
            fmt::format(R"({{"device_id":"EV2","name":"{}","data":{},"operator":"alice"}})", c.name, c.data), 15s);
        CHECK_MESSAGE(r.status == c.status,
                      c.name << " " << c.data << ": " << r.status << " " << r.code << " " << r.msg);
        // It went to the charger as cmd/<name>, and its reply came back on cmd-reply/<name>.
        CHECK(w.inbox.wait_for(topics::cmd("EV2", c.name), "\"rid\"", 1s).has_value());
        CHECK(w.inbox.wait_for(topics::cmd_reply("EV2", c.name), "\"status\"", 1s).has_value());
    }
    // The gun taken out of service says so, and a start there is refused.
    REQUIRE(w.inbox.wait_for(topics::conn_state("EV2", 1), "unavailable", 10s).has_value());
    CHECK(w.call("start", start_json(w.accounts.at(0), "EV2-1", "energy")).code == "unknown_socket");
    // A reset is answered, then the charger reboots.
    const auto reset = w.call("device_command", R"({"device_id":"EV2","name":"reset","data":{"type":"soft"}})", 15s);
    CHECK_MESSAGE(reset.status == "ok", reset.status << " " << reset.code << " " << reset.msg);
    REQUIRE(w.inbox.wait_for(topics::presence("EV2"), R"("online":false)", 15s).has_value());
    // A command the charger's kind does not have.
    CHECK(w.call("device_command", R"({"device_id":"EV2","name":"query_port","data":{"n":1}})").status ==
          "unsupported");
}
