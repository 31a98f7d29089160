// The whole chain through the API with the real workers: a pile registered through the API runs in
// pilehub-sim with the credentials the API issued; sessiond starts and stops it, recorderd records
// its power curve, billingd settles it into the ledger; the rider and the operator see it all over
// HTTP. Skipped (with a message) when the workers are not built.
#include "api_stack.hpp"

#include "common/ledger.hpp"

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

TEST_CASE("api e2e: a rider recharges in the sandbox, charges in power mode at a pile registered through the API, "
          "and finds the session's cost and one matching ledger entry") {
    if (!all_built({"sessiond", "billingd", "recorderd", "pilehub-sim"}))
        return;
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "E2E Station");
    // One power tier at 360 yuan an hour: a few seconds of charging cost a few yuan, whatever the curve.
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station),
                   R"({"tariff":{"name":"e2e","timezone":"Asia/Shanghai","modes":["time","power"],
                       "time":{"fen_per_hour":36000,"options_minutes":[60]},
                       "power":{"tiers":[{"up_to_w":2000,"fen_per_hour":36000}],"ignore_first_s":0},
                       "min_start_balance_fen":200}})",
                   admin)
                .status == 200);
    auto dev = st.device(admin, "e2e-p1", station, 10);
    {
        std::ofstream f(st.dir() + "/fleet.json");
        f << fmt::format(R"({{"devices":[{{"id":"e2e-p1","kind":"ebike_pile","sockets":10,"password":"{}"}}]}})",
                         dev.str("mqtt_password"));
    }
    Worker sessiond(st, "sessiond");
    Worker billingd(st, "billingd", {"billingd.scan_period_s=1", "billingd.cost_period_s=1"});
    Worker recorderd(st, "recorderd");
    auto sim = spawn_sim(st, 10, {"--tele-period-s", "2"});

    const auto rider = st.rider("13000000001");
    auto pay = st.post("/api/v1/wallet/recharge", R"({"amount_fen":5000})", rider);
    REQUIRE(st.post("/api/v1/pay/sandbox/" + pay.str("payment.id") + "/confirm", "{}", rider).status == 200);
    REQUIRE_MESSAGE(eventually([&] { return st.get("/api/v1/sockets/e2e-p1-1", rider).str("state") == "free"; }, 20s),
                    "the simulated pile never came online with the API's credentials:\n"
                        << tail(slurp(st.dir() + "/sim.log")));

    const auto t0 = std::chrono::steady_clock::now();
    auto start = st.post("/api/v1/sessions", R"({"socket":"e2e-p1-1","mode":"power"})", rider);
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    REQUIRE_MESSAGE(start.status == 202, start);
    const auto sid = start.str("session.id");
    // starting, or already charging when the simulated pile confirmed before the answer was written
    const auto state = start.str("session.state");
    CHECK_MESSAGE((state == "starting" || state == "charging"), state);
    CHECK(st.post("/api/v1/sessions", R"({"socket":"e2e-p1-1","mode":"time","minutes":60})", st.rider("13000000002"))
              .status >= 400);
    REQUIRE_MESSAGE(
        eventually([&] { return st.get("/api/v1/sessions/" + sid, rider).str("state") == "charging"; }, 15s),
        st.get("/api/v1/sessions/" + sid, rider));
    CHECK(st.get("/api/v1/sockets/e2e-p1-1", rider).str("state") == "busy");
    CHECK(eventually([&] { return st.get("/api/v1/sessions/" + sid, rider).i64("power_w") > 0; }, 15s));
    CHECK(eventually([&] { return st.get("/api/v1/sessions/" + sid, rider).size("curve") >= 2; }, 15s));
    std::this_thread::sleep_for(2s);
    auto live = st.get("/api/v1/sessions/" + sid, rider);
    CHECK(live.i64("duration_s") >= 2);
    CHECK(live.at("cost_fen")->IsInt64());

    auto stop = st.post("/api/v1/sessions/" + sid + "/stop", "{}", rider);
    REQUIRE_MESSAGE(stop.status == 202, stop);
    REQUIRE_MESSAGE(
        eventually([&] { return st.get("/api/v1/sessions/" + sid, rider).str("state") == "completed"; }, 30s),
        st.get("/api/v1/sessions/" + sid, rider));
    auto done = st.get("/api/v1/sessions/" + sid, rider);
    const auto cost = done.i64("cost_fen");
    CHECK(cost > 0);
    CHECK(!done.str("stop_reason").empty());
    auto ledger = st.get("/api/v1/wallet/ledger", rider);
    REQUIRE(ledger.size("entries") == 2);
    CHECK(ledger.str("entries.0.kind") == "charge");
    CHECK(ledger.str("entries.0.ref") == sid);
    CHECK(-(ledger.i64("entries.0.real_fen") + ledger.i64("entries.0.bonus_fen")) == cost);
    CHECK(st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 5000 - cost);

    auto detail = st.get("/api/v1/admin/sessions/" + sid, admin);
    CHECK(detail.str("bill.source") == "settlement");
    CHECK(detail.i64("bill.debited_fen") == cost);
    CHECK(detail.size("events") >= 3);
    auto dash = st.get("/api/v1/admin/dashboard", admin);
    CHECK(dash.i64("today.charge_fen") == cost);
    CHECK(dash.i64("today.sessions") == 1);
    CHECK(dash.i64("today.recharge_fen") == 5000);
    auto d = st.db();
    CHECK(ledger::audit(d).empty());
    sim.stop();
}

TEST_CASE("api e2e: a car and an e-bike charge at the same station at the same time, each billed right, and the "
          "station counts its free sockets and guns apart") {
    if (!all_built({"sessiond", "billingd", "recorderd", "autostopd", "pilehub-sim"}))
        return;
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Mixed Station");
    // One tariff for both kinds: e-bikes by time (100 yuan an hour, so a minute costs something), cars by
    // energy at one flat period of 1.00 yuan electricity + 0.80 service per kWh.
    std::string slots;
    for (int i = 0; i < 48; ++i)
        slots += i ? R"(,"flat")" : R"("flat")";
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station),
                   fmt::format(R"({{"tariff":{{"name":"mixed","timezone":"Asia/Shanghai","modes":["time","energy"],
                       "time":{{"fen_per_hour":10000,"options_minutes":[60]}},
                       "energy":{{"periods":{{"flat":{{"elec_e4":10000,"service_e4":8000}}}},
                                 "slots":[{}],"service_by":"energy"}},
                       "min_start_balance_fen":200}}}})",
                               slots),
                   admin)
                .status == 200);
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/prepaid-amounts", station),
                   R"({"amounts_fen":[2000,5000,10000]})", admin)
                .status == 200);
    auto pile = st.device(admin, "mix-p1", station, 10);
    auto charger = st.post("/api/v1/admin/devices",
                           fmt::format(R"({{"id":"mix-ev1","kind":"ev_charger","station_id":{},"guns":2,)"
                                       R"("connectors":[{{"n":1,"type":"gbt_dc","rated_power_w":120000}},)"
                                       R"({{"n":2,"type":"gbt_dc","rated_power_w":120000}}]}})",
                                       station),
                           admin);
    REQUIRE_MESSAGE(charger.status == 201, charger);
    {
        std::ofstream f(st.dir() + "/fleet.json");
        f << fmt::format(R"({{"devices":[{{"id":"mix-p1","kind":"ebike_pile","sockets":10,"password":"{}"}},)"
                         R"({{"id":"mix-ev1","kind":"ev_charger","guns":2,"dc":true,"password":"{}"}}]}})",
                         pile.str("mqtt_password"), charger.str("mqtt_password"));
    }
    Worker sessiond(st, "sessiond", {"sessiond.device_time_scale=30"});
    Worker billingd(st, "billingd", {"billingd.scan_period_s=1", "billingd.cost_period_s=1"});
    Worker recorderd(st, "recorderd");
    Worker autostopd(st, "autostopd");
    auto sim = spawn_sim(st, 30, {"--tele-period-s", "2"});

    const auto driver = st.rider("13000000011");
    const auto cyclist = st.rider("13000000012");
    for (const auto& who : {driver, cyclist}) {
        auto pay = st.post("/api/v1/wallet/recharge", R"({"amount_fen":50000})", who);
        REQUIRE(st.post("/api/v1/pay/sandbox/" + pay.str("payment.id") + "/confirm", "{}", who).status == 200);
    }
    REQUIRE_MESSAGE(eventually([&] { return st.get("/api/v1/sockets/mix-ev1-1", driver).str("state") == "free"; }, 20s),
                    tail(slurp(st.dir() + "/sim.log")));
    REQUIRE(eventually([&] { return st.get("/api/v1/sockets/mix-p1-1", driver).str("state") == "free"; }, 20s));
    auto gun = st.get("/api/v1/sockets/mix-ev1-1", driver);
    CHECK(gun.str("kind") == "ev_gun");
    CHECK(gun.i64("rated_power_w") == 120000);
    CHECK(gun.str("connector_type") == "gbt_dc");
    CHECK(gun.size("prepaid_amounts_fen") == 3);
    auto counts = [&] { return st.get(fmt::format("/api/v1/stations/{}", station), driver); };
    REQUIRE(eventually([&] { return counts().i64("ev.free") == 2 && counts().i64("ebike.free") == 10; }, 10s));

    // A prepaid amount that the station does not offer is refused; one it offers is taken.
    CHECK(st.post("/api/v1/sessions", R"({"socket":"mix-ev1-1","mode":"energy","max_fen":3000})", driver).code() ==
          "invalid_amount");
    auto car = st.post("/api/v1/sessions", R"({"socket":"mix-ev1-1","mode":"energy","max_fen":2000})", driver);
    REQUIRE_MESSAGE(car.status == 202, car);
    auto bike = st.post("/api/v1/sessions", R"({"socket":"mix-p1-1","mode":"time","minutes":60})", cyclist);
    REQUIRE_MESSAGE(bike.status == 202, bike);
    const auto car_id = car.str("session.id"), bike_id = bike.str("session.id");
    REQUIRE(eventually([&] { return st.get("/api/v1/sessions/" + car_id, driver).str("state") == "charging"; }, 15s));
    REQUIRE(eventually([&] { return st.get("/api/v1/sessions/" + bike_id, cyclist).str("state") == "charging"; }, 15s));
    // Both running: one gun and one socket fewer free, each kind apart.
    REQUIRE(eventually([&] { return counts().i64("ev.free") == 1 && counts().i64("ebike.free") == 9; }, 10s));
    const auto c = counts();
    CHECK(c.i64("ev.total") == 2);
    CHECK(c.i64("ebike.total") == 10);
    CHECK(c.i64("free_sockets") == 10);
    CHECK(c.i64("total_sockets") == 12);
    auto live = st.get("/api/v1/sessions/" + car_id, driver);
    CHECK(live.str("kind") == "ev");
    CHECK(live.i64("max_fen") == 2000);
    CHECK(eventually([&] { return st.get("/api/v1/sessions/" + car_id, driver).i64("soc_pct", -1) >= 0; }, 15s));

    // The car runs into its 20 yuan; the e-bike is stopped by its rider.
    REQUIRE_MESSAGE(
        eventually([&] { return st.get("/api/v1/sessions/" + car_id, driver).str("state") == "completed"; }, 90s),
        st.get("/api/v1/sessions/" + car_id, driver) << "\n"
                                                     << tail(slurp(st.dir() + "/autostopd.log")));
    REQUIRE(st.post("/api/v1/sessions/" + bike_id + "/stop", "{}", cyclist).status == 202);
    REQUIRE(
        eventually([&] { return st.get("/api/v1/sessions/" + bike_id, cyclist).str("state") == "completed"; }, 30s));
    const auto car_done = st.get("/api/v1/sessions/" + car_id, driver);
    CHECK(car_done.str("stop_reason") == "quota_reached");
    CHECK(car_done.i64("cost_fen") == 2000);
    CHECK(car_done.i64("electricity_fen") + car_done.i64("service_fen") == 2000);
    // The energy, priced by hand: 1.80 yuan per kWh, bounded by the prepaid amount.
    const auto energy_wh = car_done.i64("energy_wh");
    CHECK(energy_wh * 180 / 1000 >= 2000);
    CHECK(car_done.i64("electricity_fen") == std::min<std::int64_t>(energy_wh * 100 / 1000, 2000));
    const auto bike_done = st.get("/api/v1/sessions/" + bike_id, cyclist);
    CHECK(bike_done.str("kind") == "ebike");
    auto detail = st.get("/api/v1/admin/sessions/" + bike_id, admin);
    const auto charged_s = detail.i64("bill.detail.charged_s", -1);
    REQUIRE_MESSAGE(charged_s > 0, detail);
    CHECK(bike_done.i64("cost_fen") == charged_s * 10000 / 3600); // minutes × 100 yuan/h, rounded down once
    CHECK(bike_done.i64("cost_fen") > 0);
    CHECK(st.get("/api/v1/me", driver).i64("wallet.balance_fen") == 50000 - 2000);
    CHECK(st.get("/api/v1/me", cyclist).i64("wallet.balance_fen") == 50000 - bike_done.i64("cost_fen"));
    // An operator's command reaches the real charger through sessiond and comes back with its reply.
    auto cmd = st.post("/api/v1/admin/devices/mix-ev1/commands/set_tariff",
                       R"({"data":{"elec_e4":10000,"service_e4":8000}})", admin);
    CHECK_MESSAGE(cmd.status == 200, cmd);
    CHECK(cmd.str("status") == "ok");
    // The operator sees the orders apart.
    CHECK(st.get(fmt::format("/api/v1/admin/sessions?kind=ev&station_id={}", station), admin).size("sessions") == 1);
    CHECK(st.get(fmt::format("/api/v1/admin/sessions?kind=ebike&station_id={}", station), admin).size("sessions") == 1);
    REQUIRE(eventually([&] { return counts().i64("ev.free") >= 1 && counts().i64("ebike.free") == 10; }, 15s));
    auto d = st.db();
    CHECK(ledger::audit(d).empty());
    sim.stop();
}
