// Cars at the API (CONTRACT D.1, issue 10) against the running stack: real Mosquitto, the real
// pilehub-api, real HTTP, real SQLite. Chargers are registered through the API and speak for
// themselves on the broker (presence, conn/{n}/state); sessions and device commands go to the
// stand-in sessiond (FakeSessiond). The run with a real charger and the real workers is the
// lead's integration test.
#include "api_stack.hpp"

#include "common/topics.hpp"

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

/// Energy mode, valley 00:00-08:00 and peak 08:00-24:00 (Asia/Shanghai).
std::string energy_tariff() {
    std::string slots;
    for (int i = 0; i < 48; ++i)
        slots += fmt::format("{}\"{}\"", i ? "," : "", i < 16 ? "valley" : "peak");
    return fmt::format(
        R"({{"tariff": {{"name": "Cars", "timezone": "Asia/Shanghai", "modes": ["energy"],
  "energy": {{"periods": {{"valley": {{"elec_e4": 3000, "service_e4": 4000}}, "peak": {{"elec_e4": 9000, "service_e4": 6000}}}},
             "slots": [{}], "service_by": "energy"}},
  "min_start_balance_fen": 0, "stop_below_balance_fen": 0}}}})",
        slots);
}

/// The period `energy_tariff()` is in now.
std::string period_now() {
    const auto local_s = SystemClock::instance().now_ms() / 1000 + 8 * 3600;
    return (local_s % 86400) / 1800 < 16 ? "valley" : "peak";
}

/// Registers a charger with `guns` guns and the given `connectors` JSON (empty: none).
Http charger(const Stack& st, const std::string& admin, const std::string& id, std::int64_t station, int guns,
             const std::string& connectors = "") {
    return st.post("/api/v1/admin/devices",
                   fmt::format(R"({{"id":"{}","kind":"ev_charger","station_id":{},"guns":{}{}}})", id, station, guns,
                               connectors.empty() ? "" : ",\"connectors\":" + connectors),
                   admin);
}

/// A gun's (or socket's) retained status as the device publishes it.
void report(mqtt::Client& dev, const std::string& id, int n, const std::string& st) {
    dev.publish(
        {topics::conn_state(id, n),
         fmt::format(R"({{"v":1,"ts":1,"boot":1,"seq":{},"data":{{"st":"{}","sid":"","since":1,"faults":[]}}}})", n + 1,
                     st),
         1, true});
}

/// Settles a session the way billingd does: the ledger entry, the settlement with its electricity
/// and service split, the session row.
void settle(Stack& st, const std::string& sid, std::int64_t account, std::int64_t electricity_fen,
            std::int64_t service_fen) {
    auto d = st.db();
    const auto now = SystemClock::instance().now_ms();
    const auto cost = electricity_fen + service_fen;
    const auto entry = debit_settlement(d, sid, account, cost);
    db::Statement(d, "INSERT INTO settlements(session_id, account_id, ledger_id, priced_fen, debited_fen, "
                     "shortfall_fen, bill, settled_at, electricity_fen, service_fen) VALUES (?, ?, ?, ?, ?, 0, '{}', "
                     "?, ?, ?)")
        .bind_all(sid, account, entry, cost, cost, now, electricity_fen, service_fen)
        .run();
    db::Statement(d, "UPDATE sessions SET state = 'completed', cost_fen = ?, energy_wh = 20000, soc_pct = 80, "
                     "started_at = ?, ended_at = ?, stop_reason = 'full' WHERE id = ?")
        .bind_all(cost, now - 3'600'000, now, sid)
        .run();
}

/// A rider with money in the wallet.
std::string rich_rider(const Stack& st, const std::string& admin, const std::string& phone) {
    const auto token = st.rider(phone);
    REQUIRE(
        st.money(fmt::format("/api/v1/admin/users/{}/recharge", st.rider_id(token)), R"({"amount_fen":100000})", admin)
            .status == 200);
    return token;
}

} // namespace

TEST_CASE("api ev: a charger registers its guns with connectors and ratings; bad connectors are 422 "
          "invalid_connector") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Cars");
    auto reg =
        charger(st, admin, "cp-1", station, 2,
                R"([{"n":1,"type":"gbt_dc","rated_power_w":120000},{"n":2,"type":"type2","rated_power_w":7000}])");
    REQUIRE_MESSAGE(reg.status == 201, reg);
    CHECK(reg.size("guns") == 2);
    CHECK(reg.i64("sockets") == 2); // the count as it was always answered
    CHECK(!reg.str("mqtt_password").empty());
    CHECK(reg.str("guns.0.connector_type") == "gbt_dc");
    CHECK(reg.str("guns.0.current_type") == "dc");
    CHECK(reg.i64("guns.0.rated_power_w") == 120000);
    CHECK(reg.str("guns.1.connector_type") == "type2");
    CHECK(reg.str("guns.1.current_type") == "ac");
    // Like a pile, the charger finds its whole configuration (the EV defaults, version 1) retained.
    CHECK(st.get("/api/v1/admin/devices/cp-1/config", admin).i64("desired.version") == 1);
    CHECK(st.get("/api/v1/admin/devices/cp-1/config", admin).i64("desired.ev_no_load_wait_s") == 90);

    struct Bad {
        const char* body_tail; ///< after `"station_id":<id>`
        int status;
        const char* code;
        const char* says;
    };
    const Bad bad[] = {
        {R"(,"guns":2,"connectors":[{"n":3,"type":"gbt_dc","rated_power_w":60000}])", 422, "invalid_connector",
         "guns 1..2"},
        {R"(,"guns":2,"connectors":[{"n":1,"type":"chademo","rated_power_w":60000}])", 422, "invalid_connector",
         "chademo"},
        {R"(,"guns":2,"connectors":[{"n":1,"type":"gbt_ac","rated_power_w":60000}])", 422, "invalid_connector",
         "1000..44000 W"},
        {R"(,"guns":2,"connectors":[{"n":1,"type":"ccs2","rated_power_w":500}])", 422, "invalid_connector",
         "1000..1000000 W"},
        {R"(,"guns":2,"connectors":[{"n":1,"type":"ccs2","rated_power_w":50000},{"n":1,"type":"ccs2","rated_power_w":50000}])",
         422, "invalid_connector", "given twice"},
        {R"(,"guns":2,"connectors":[{"n":1,"type":"ccs2"}])", 400, "invalid_request", "rated_power_w"},
        {R"(,"guns":17)", 400, "invalid_request", "guns"},
        {R"(,"sockets":2,"guns":3)", 400, "invalid_request", "same count"},
        {"", 400, "invalid_request", "guns is required"},
    };
    for (const auto& b : bad) {
        CAPTURE(b.body_tail);
        auto r = st.post("/api/v1/admin/devices",
                         fmt::format(R"({{"id":"cp-x","kind":"ev_charger","station_id":{}{}}})", station, b.body_tail),
                         admin);
        CHECK(r.status == b.status);
        CHECK(r.code() == b.code);
        CHECK_MESSAGE(r.str("error.message").find(b.says) != std::string::npos, r);
    }
    // Guns and connectors are words of chargers.
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"eb-x","kind":"ebike_pile","station_id":{},"guns":2}})", station), admin)
              .code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"eb-x","kind":"ebike_pile","station_id":{},"sockets":2,"connectors":[{{"n":1,)"
                              R"("type":"gbt_ac","rated_power_w":7000}}]}})",
                              station),
                  admin)
              .code() == "invalid_request");
    // `sockets` stays a synonym; guns without a connector keep the registry's defaults.
    auto plain = st.device(admin, "cp-2", station, 1, "ev_charger");
    CHECK(plain.size("guns") == 1);
    CHECK(plain.at("guns.0.connector_type")->IsNull());
    CHECK(plain.i64("guns.0.rated_power_w") == 7000);
    CHECK(plain.str("guns.0.current_type") == "ac");

    // The device page lists the guns with their OCPP status once the charger reports it.
    auto page = st.get("/api/v1/admin/devices/cp-1", admin);
    REQUIRE_MESSAGE(page.status == 200, page);
    CHECK(page.size("guns") == 2);
    CHECK(page.str("guns.0.code") == "cp-1-1");
    CHECK(page.str("guns.0.connector_type") == "gbt_dc");
    CHECK(page.i64("guns.0.rated_power_w") == 120000);
    CHECK(page.at("guns.0.ocpp_status")->IsNull());
    CHECK(page.size("sockets") == 2);
    auto dev = bring_online(st, "cp-1", reg.str("mqtt_password"));
    report(*dev, "cp-1", 1, "preparing");
    report(*dev, "cp-1", 2, "suspended_ev");
    CHECK(eventually([&] {
        page = st.get("/api/v1/admin/devices/cp-1", admin);
        return page.str("guns.1.ocpp_status") == "suspended_ev";
    }));
    CHECK(page.str("guns.0.ocpp_status") == "preparing");
    // An e-bike pile's page has no guns.
    st.device(admin, "eb-1", station, 2);
    CHECK(st.get("/api/v1/admin/devices/eb-1", admin).at("guns") == nullptr);
    dev->stop();
}

TEST_CASE("api ev: pilehubctl device add registers a charger's guns with --guns and --connector n:type:watts") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Cars");
    const auto ctl = [&](std::vector<std::string> words) {
        std::vector<std::string> argv{std::string(PILEHUB_BINARY_DIR) + "/workers/pilehubctl/pilehubctl",
                                      "--set",
                                      "data_dir=" + st.dir(),
                                      "--set",
                                      "db.path=" + st.dir() + "/pilehub.db",
                                      "device",
                                      "add"};
        argv.insert(argv.end(), words.begin(), words.end());
        return test::run(argv, 60s);
    };
    const auto id = std::to_string(station);
    auto ok = ctl({"cp-ctl", "--kind", "ev_charger", "--station", id, "--guns", "2", "--connector", "1:gbt_dc:120000",
                   "--connector", "2:ccs2:60000"});
    REQUIRE_MESSAGE(ok.exit_code == 0, ok.output);
    CHECK(ok.output.find("mqtt_password=") != std::string::npos);
    auto page = st.get("/api/v1/admin/devices/cp-ctl", admin);
    REQUIRE_MESSAGE(page.status == 200, page);
    CHECK(page.size("guns") == 2);
    CHECK(page.str("guns.0.connector_type") == "gbt_dc");
    CHECK(page.i64("guns.0.rated_power_w") == 120000);
    CHECK(page.str("guns.1.connector_type") == "ccs2");
    CHECK(page.str("guns.1.current_type") == "dc");
    CHECK(page.i64("guns.1.rated_power_w") == 60000);
    struct Bad {
        std::vector<std::string> words;
        const char* says;
    };
    const Bad bad[] = {
        {{"cp-bad", "--kind", "ev_charger", "--station", id, "--guns", "2", "--connector", "3:gbt_dc:60000"},
         "guns 1..2"},
        {{"cp-bad", "--kind", "ev_charger", "--station", id, "--connector", "1:chademo:50000"}, "chademo"},
        {{"cp-bad", "--kind", "ev_charger", "--station", id, "--connector", "1:type2:50000"}, "1000..44000 W"},
        {{"cp-bad", "--kind", "ev_charger", "--station", id, "--connector", "1-gbt_dc-5000"}, "n:type:watts"},
        {{"eb-bad", "--kind", "ebike_pile", "--station", id, "--connector", "1:gbt_ac:7000"}, "ev_charger"},
    };
    for (const auto& b : bad) {
        auto r = ctl(b.words);
        CHECK_MESSAGE(r.exit_code == 2, r.output);
        CHECK_MESSAGE(r.output.find(b.says) != std::string::npos, r.output);
    }
    CHECK(st.get("/api/v1/admin/devices/cp-bad", admin).code() == "unknown_device");
}

TEST_CASE("api ev: a rider's gun view: kind ev_gun, OCPP status, rating, electricity and service prices per TOU "
          "period with the current one, the station's prepaid amounts; e-bike sockets keep kind socket") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Cars");
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station), energy_tariff(), admin).status == 200);
    auto reg = charger(st, admin, "cp-3", station, 1, R"([{"n":1,"type":"gbt_dc","rated_power_w":60000}])");
    REQUIRE(reg.status == 201);
    st.device(admin, "eb-3", station, 1);
    auto put = st.put(fmt::format("/api/v1/admin/stations/{}/prepaid-amounts", station),
                      R"({"amounts_fen":[5000,1000,3000]})", admin);
    REQUIRE_MESSAGE(put.status == 200, put);
    const auto rider = st.rider("13700000001");

    auto gun = st.get("/api/v1/sockets/cp-3-1", rider);
    REQUIRE_MESSAGE(gun.status == 200, gun);
    CHECK(gun.str("kind") == "ev_gun");
    CHECK(gun.str("state") == "offline");
    CHECK(gun.at("ocpp_status")->IsNull()); // nothing reported yet
    CHECK(gun.i64("rated_power_w") == 60000);
    CHECK(gun.str("connector_type") == "gbt_dc");
    CHECK(gun.str("current_type") == "dc");
    REQUIRE(gun.size("prepaid_amounts_fen") == 3);
    CHECK(gun.i64("prepaid_amounts_fen.0") == 1000);
    CHECK(gun.i64("prepaid_amounts_fen.2") == 5000);
    REQUIRE(gun.size("modes") == 1);
    CHECK(gun.str("modes.0.mode") == "energy");
    CHECK(gun.i64("modes.0.periods.valley.elec_e4") == 3000);
    CHECK(gun.i64("modes.0.periods.valley.service_e4") == 4000);
    CHECK(gun.i64("modes.0.periods.peak.elec_e4") == 9000);
    CHECK(gun.i64("modes.0.periods.peak.service_e4") == 6000);
    CHECK(gun.str("modes.0.current_period") == period_now());

    auto dev = bring_online(st, "cp-3", reg.str("mqtt_password"));
    report(*dev, "cp-3", 1, "preparing");
    CHECK(eventually([&] { return st.get("/api/v1/sockets/cp-3-1", rider).str("ocpp_status") == "preparing"; }));
    CHECK(st.get("/api/v1/sockets/cp-3-1", rider).str("state") == "free"); // plugged in, no session: free

    auto bike = st.get("/api/v1/sockets/eb-3-1", rider);
    REQUIRE(bike.status == 200);
    CHECK(bike.str("kind") == "socket");
    CHECK(bike.at("ocpp_status") == nullptr);
    CHECK(bike.at("rated_power_w") == nullptr);
    CHECK(bike.size("prepaid_amounts_fen") == 3);

    auto view = st.get(fmt::format("/api/v1/stations/{}", station), rider);
    REQUIRE(view.status == 200);
    CHECK(view.size("prepaid_amounts_fen") == 3);
    CHECK(view.i64("ev.total") == 1);
    CHECK(view.i64("ebike.total") == 1);
    REQUIRE(view.size("sockets") == 2);
    for (const std::string i : {"0", "1"})
        CHECK(view.str("sockets." + i + ".kind") ==
              (view.str("sockets." + i + ".code") == "cp-3-1" ? "ev_gun" : "socket"));
    CHECK(view.str("tariff.modes.0.current_period") == period_now());
    dev->stop();
}

TEST_CASE("api ev: riders' lists count e-bike sockets and car guns apart; a gun is free only when available or "
          "preparing without a session, and its charger online") {
    Stack st({true, {"pilehub-api.station_counts_ttl_ms=0"}, {}});
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto station = st.station(admin, "Mixed");
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station), energy_tariff(), admin).status == 200);
    auto cp = charger(st, admin, "cp-4", station, 3);
    auto eb = st.device(admin, "eb-4", station, 2);
    const auto rider = rich_rider(st, admin, "13700000002");
    const auto nearby = [&] { return st.get("/api/v1/stations/nearby?lat=22.543096&lon=114.057865", rider); };

    auto n0 = nearby();
    REQUIRE(n0.size("stations") == 1);
    CHECK(n0.i64("stations.0.total_sockets") == 5);
    CHECK(n0.i64("stations.0.free_sockets") == 0); // nothing online
    CHECK(n0.i64("stations.0.ev.total") == 3);
    CHECK(n0.i64("stations.0.ebike.total") == 2);

    auto charger_dev = bring_online(st, "cp-4", cp.str("mqtt_password"));
    auto pile = bring_online(st, "eb-4", eb.str("mqtt_password"));
    report(*charger_dev, "cp-4", 1, "available");
    report(*charger_dev, "cp-4", 2, "preparing");
    report(*charger_dev, "cp-4", 3, "charging");
    REQUIRE(eventually([&] {
        const auto n = nearby();
        return n.i64("stations.0.ev.free") == 2 && n.i64("stations.0.ebike.free") == 2;
    }));
    auto n1 = nearby();
    CHECK(n1.i64("stations.0.free_sockets") == 4);
    CHECK(n1.i64("stations.0.total_sockets") == 5);

    // A session on the preparing gun makes it busy; the e-bike count does not move.
    auto started = st.post("/api/v1/sessions", R"({"socket":"cp-4-2","mode":"energy"})", rider);
    REQUIRE_MESSAGE(started.status == 202, started);
    auto n2 = nearby();
    CHECK(n2.i64("stations.0.ev.free") == 1);
    CHECK(n2.i64("stations.0.ebike.free") == 2);
    CHECK(st.get("/api/v1/sockets/cp-4-2", rider).str("state") == "busy");
    auto view = st.get(fmt::format("/api/v1/stations/{}", station), rider);
    CHECK(view.i64("ev.free") == 1);
    CHECK(view.i64("free_sockets") == 3);

    // The charger goes away: none of its guns is free, the piles' sockets still are.
    charger_dev->publish({topics::presence("cp-4"), R"({"v":1,"online":false,"boot":1,"reason":"shutdown"})", 1, true});
    CHECK(eventually([&] { return nearby().i64("stations.0.ev.free") == 0; }));
    auto n3 = nearby();
    CHECK(n3.i64("stations.0.ebike.free") == 2);
    CHECK(n3.i64("stations.0.ev.total") == 3);
    charger_dev->stop();
    pile->stop();
}

TEST_CASE("api ev: operators set a station's prepaid amounts in their scope (audited); a rider's max_fen must be one "
          "of them, goes to sessiond and shows on the session") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto station = st.station(admin, "Cars"), other = st.station(admin, "Other", 22.55, 114.06);
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station), energy_tariff(), admin).status == 200);
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", other), energy_tariff(), admin).status == 200);
    REQUIRE(charger(st, admin, "cp-5", station, 2).status == 201);
    REQUIRE(charger(st, admin, "cp-6", other, 1).status == 201);
    const auto path = fmt::format("/api/v1/admin/stations/{}/prepaid-amounts", station);

    CHECK(st.get(path, admin).size("amounts_fen") == 0);
    struct Bad {
        const char* body;
        int status;
        const char* code;
    };
    const Bad bad[] = {
        {R"({"amounts_fen":[]})", 422, "invalid_amount"},
        {R"({"amounts_fen":[1,2,3,4,5,6,7,8,9,10,11,12,13]})", 422, "invalid_amount"},
        {R"({"amounts_fen":[1000,1000]})", 422, "invalid_amount"},
        {R"({"amounts_fen":[0]})", 422, "invalid_amount"},
        {R"({"amounts_fen":[100000001]})", 422, "invalid_amount"},
        {R"({"amounts_fen":[10.5]})", 400, "invalid_request"},
        {R"({"amounts_fen":"1000"})", 400, "invalid_request"},
        {R"({})", 400, "invalid_request"},
    };
    for (const auto& b : bad) {
        CAPTURE(b.body);
        auto r = st.put(path, b.body, admin);
        CHECK(r.status == b.status);
        CHECK(r.code() == b.code);
    }
    auto put = st.put(path, R"({"amounts_fen":[5000,1000,3000]})", admin);
    REQUIRE_MESSAGE(put.status == 200, put);
    CHECK(put.i64("station_id") == station);
    CHECK(put.body.find(R"("amounts_fen":[1000,3000,5000])") != std::string::npos);
    CHECK(st.get(path, admin).size("amounts_fen") == 3);
    CHECK(st.put("/api/v1/admin/stations/999/prepaid-amounts", R"({"amounts_fen":[1000]})", admin).code() ==
          "not_found");
    // An operator of the other station cannot read or change these.
    const auto scoped = st.staff(admin, "other-op", "operator", fmt::format(R"("station_ids":[{}])", other));
    CHECK(st.get(path, scoped).code() == "not_found");
    CHECK(st.put(path, R"({"amounts_fen":[2000]})", scoped).code() == "not_found");
    CHECK(st.put(fmt::format("/api/v1/admin/stations/{}/prepaid-amounts", other), R"({"amounts_fen":[2000]})", scoped)
              .status == 200);
    // Each change is in the audit log.
    auto audit = st.get("/api/v1/admin/audit-log?action=admin.stations.prepaid.put", admin);
    CHECK(audit.size("entries") == 2);

    const auto rider = rich_rider(st, admin, "13700000003");
    auto not_offered = st.post("/api/v1/sessions", R"({"socket":"cp-5-1","mode":"energy","max_fen":2000})", rider);
    CHECK(not_offered.status == 422);
    CHECK(not_offered.code() == "invalid_amount");
    CHECK(not_offered.str("error.message").find("1000, 3000, 5000") != std::string::npos);
    for (const char* out_of_range : {"0", "-100", "100000001"}) {
        auto r = st.post("/api/v1/sessions",
                         fmt::format(R"({{"socket":"cp-6-1","mode":"energy","max_fen":{}}})", out_of_range), rider);
        CHECK_MESSAGE(r.code() == "invalid_amount", out_of_range);
    }
    CHECK(fake.calls() == 0); // nothing refused here reached sessiond
    auto started = st.post("/api/v1/sessions", R"({"socket":"cp-5-1","mode":"energy","max_fen":3000})", rider);
    REQUIRE_MESSAGE(started.status == 202, started);
    CHECK(fake.last_start().find(R"("max_fen":3000)") != std::string::npos);
    const auto sid = started.str("session.id");
    CHECK(started.i64("session.max_fen") == 3000);
    auto live = st.get("/api/v1/sessions/" + sid, rider);
    REQUIRE(live.status == 200);
    CHECK(live.i64("max_fen") == 3000);
    CHECK(live.str("kind") == "ev");
    CHECK(live.at("soc_pct")->IsNull());
    CHECK(live.at("electricity_fen")->IsNull());
    CHECK(live.at("service_fen")->IsNull());
    // A station without prepaid amounts takes any amount in range.
    const auto open = st.station(admin, "Open", 22.56, 114.07);
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", open), energy_tariff(), admin).status == 200);
    REQUIRE(charger(st, admin, "cp-9", open, 1).status == 201);
    const auto rider2 = rich_rider(st, admin, "13700000004");
    auto any = st.post("/api/v1/sessions", R"({"socket":"cp-9-1","mode":"energy","max_fen":777})", rider2);
    REQUIRE_MESSAGE(any.status == 202, any);
    CHECK(fake.last_start().find(R"("max_fen":777)") != std::string::npos);

    settle(st, sid, st.rider_id(rider), 1800, 1200);
    auto done = st.get("/api/v1/sessions/" + sid, rider);
    CHECK(done.i64("cost_fen") == 3000);
    CHECK(done.i64("electricity_fen") == 1800);
    CHECK(done.i64("service_fen") == 1200);
    CHECK(done.i64("soc_pct") == 80);
    auto list = st.get("/api/v1/sessions?state=all", rider);
    CHECK(list.str("sessions.0.kind") == "ev");
    CHECK(list.i64("sessions.0.electricity_fen") == 1800);
}

TEST_CASE("api ev: operators list and export car and e-bike orders apart, with electricity and service amounts") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto station = st.station(admin, "Mixed");
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station),
                   R"({"tariff":{"name":"Both","timezone":"Asia/Shanghai","modes":["energy","time"],
                       "time":{"fen_per_hour":100,"options_minutes":[60]},
                       "energy":{"periods":{"flat":{"elec_e4":6000,"service_e4":4000}},"slots":["flat","flat","flat",
                       "flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat",
                       "flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat",
                       "flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat",
                       "flat","flat","flat"],"service_by":"energy"},"min_start_balance_fen":0}})",
                   admin)
                .status == 200);
    REQUIRE(charger(st, admin, "cp-7", station, 1).status == 201);
    st.device(admin, "eb-7", station, 1);
    const auto alice = rich_rider(st, admin, "13700000005"), bob = rich_rider(st, admin, "13700000006");
    auto car = st.post("/api/v1/sessions", R"({"socket":"cp-7-1","mode":"energy"})", alice);
    auto bike = st.post("/api/v1/sessions", R"({"socket":"eb-7-1","mode":"time","minutes":60})", bob);
    REQUIRE(car.status == 202);
    REQUIRE(bike.status == 202);
    settle(st, car.str("session.id"), st.rider_id(alice), 1200, 800);

    CHECK(st.get("/api/v1/admin/sessions", admin).size("sessions") == 2);
    auto cars = st.get("/api/v1/admin/sessions?kind=ev", admin);
    REQUIRE(cars.size("sessions") == 1);
    CHECK(cars.str("sessions.0.id") == car.str("session.id"));
    CHECK(cars.str("sessions.0.kind") == "ev");
    CHECK(cars.i64("sessions.0.electricity_fen") == 1200);
    CHECK(cars.i64("sessions.0.service_fen") == 800);
    auto bikes = st.get("/api/v1/admin/sessions?kind=ebike", admin);
    REQUIRE(bikes.size("sessions") == 1);
    CHECK(bikes.str("sessions.0.kind") == "ebike");
    CHECK(st.get("/api/v1/admin/sessions?kind=bus", admin).code() == "invalid_request");
    auto one = st.get("/api/v1/admin/sessions/" + car.str("session.id"), admin);
    CHECK(one.str("kind") == "ev");
    CHECK(one.i64("electricity_fen") == 1200);

    auto csv = st.get("/api/v1/admin/exports/sessions?kind=ev", admin);
    REQUIRE_MESSAGE(csv.status == 200, csv);
    const auto header = csv.body.substr(0, csv.body.find('\n'));
    CHECK(header.rfind("\xEF\xBB\xBFsession_id,state,method", 0) == 0); // the columns readers had keep their places
    CHECK(header.find(",kind,max_fen,soc_pct,electricity_fen,service_fen") != std::string::npos);
    CHECK(csv.body.find(car.str("session.id")) != std::string::npos);
    CHECK(csv.body.find(bike.str("session.id")) == std::string::npos);
    CHECK(csv.body.find(",ev,,80,1200,800") != std::string::npos);
    auto all = st.get("/api/v1/admin/exports/sessions", admin);
    CHECK(all.body.find(bike.str("session.id")) != std::string::npos);
    CHECK(all.body.find(",ebike,,,,") != std::string::npos);
}

TEST_CASE("api ev: charger commands go to sessiond's device_command and answer with the charger's reply") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto station = st.station(admin, "Cars");
    REQUIRE(charger(st, admin, "cp-8", station, 2).status == 201);
    const auto command = [&](const std::string& name, const std::string& data) {
        return st.post("/api/v1/admin/devices/cp-8/commands/" + name, data.empty() ? "{}" : R"({"data":)" + data + "}",
                       admin);
    };
    struct Row {
        const char* name;
        const char* data;
        const char* sent; ///< the svc device_command request sessiond receives
    };
    const Row rows[] = {
        {"reset", R"({"type":"hard"})",
         R"({"device_id":"cp-8","name":"reset","data":{"type":"hard"},"operator":"admin"})"},
        {"unlock", R"({"n":2})", R"({"device_id":"cp-8","name":"unlock","data":{"n":2},"operator":"admin"})"},
        {"set_availability", R"({"n":1,"operative":false})",
         R"({"device_id":"cp-8","name":"set_availability","data":{"n":1,"operative":false},"operator":"admin"})"},
        {"set_tariff", R"({"elec_e4":9000,"service_e4":6000,"text":"peak"})",
         R"({"device_id":"cp-8","name":"set_tariff","data":{"elec_e4":9000,"service_e4":6000,"text":"peak"},"operator":"admin"})"},
        {"set_time", "", R"({"device_id":"cp-8","name":"set_time","data":{},"operator":"admin"})"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.name);
        auto reply = command(r.name, r.data);
        REQUIRE_MESSAGE(reply.status == 200, reply);
        CHECK(reply.body == R"({"status":"ok","reply":{}})");
        CHECK(fake.last_command() == r.sent);
    }
    // The data is checked against the contract before anything is sent.
    CHECK(command("reset", R"({"type":"warm"})").code() == "invalid_request");
    CHECK(command("unlock", "").code() == "invalid_request");
    CHECK(command("set_availability", R"({"n":1})").code() == "invalid_request");
    // E-bike commands are not a charger's; ota is not relayed yet.
    CHECK(command("query_port", R"({"n":1})").code() == "unsupported");
    CHECK(command("reboot", "").code() == "unsupported");
    CHECK(command("ota", "").code() == "unsupported");
    // The charger's refusal comes back: a refusal with a code of ours keeps it, one without is a conflict.
    fake.device_answers("cp-8", "rejected");
    auto refused = command("unlock", R"({"n":1})");
    CHECK(refused.status == 409);
    CHECK(refused.code() == "conflict");
    CHECK(refused.str("error.message").find("the device refused") != std::string::npos);
    fake.device_answers("cp-8", "failed", "timeout");
    CHECK(command("unlock", R"({"n":1})").status == 504);
    fake.device_answers("cp-8", "");
    fake.refuse("cp-8", "device_offline");
    CHECK(command("reset", R"({"type":"soft"})").status == 503);
}
