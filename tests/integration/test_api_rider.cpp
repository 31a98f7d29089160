// CONTRACT B against the running stack: real Mosquitto, the real pilehub-api, real HTTP. Sessions go
// to a stand-in sessiond (rpc "sessiond") so that every refusal code can be produced on demand; the
// end-to-end run with the real workers is test_api_e2e.cpp.
#include "api_stack.hpp"

#include "common/topics.hpp"

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

constexpr const char* kTariff = R"({"tariff": {
  "name": "Residential e-bike", "timezone": "Asia/Shanghai", "modes": ["time", "power"],
  "time":  {"fen_per_hour": 100, "options_minutes": [60, 120, 240]},
  "power": {"tiers": [{"up_to_w": 150, "fen_per_hour": 25}, {"up_to_w": 300, "fen_per_hour": 30}], "ignore_first_s": 60},
  "free_minutes": 5, "cap": {"max_minutes": 720, "max_fen": 1000},
  "min_start_balance_fen": 200, "stop_below_balance_fen": 0}})";

} // namespace

TEST_CASE("api rider: SMS login registers the account and its wallet on first login, then logs in again") {
    Stack st;
    auto code = st.post("/api/v1/auth/sms-code", R"({"phone":"13900000001"})");
    REQUIRE(code.status == 200);
    CHECK(code.str("dev_code").size() == 6);
    CHECK(code.boolean("sent"));
    auto wrong = st.post("/api/v1/auth/login", R"({"phone":"13900000001","code":"99999x"})");
    CHECK(wrong.status == 401);
    CHECK(wrong.code() == "unauthorized");
    auto login =
        st.post("/api/v1/auth/login", fmt::format(R"({{"phone":"13900000001","code":"{}"}})", code.str("dev_code")));
    REQUIRE_MESSAGE(login.status == 200, login);
    CHECK(login.boolean("user.registered"));
    CHECK(login.str("user.phone") == "13900000001");
    const auto id = login.i64("user.id");
    const auto token = login.str("token");
    auto me = st.get("/api/v1/me", token);
    REQUIRE(me.status == 200);
    CHECK(me.i64("id") == id);
    CHECK(me.i64("wallet.balance_fen") == 0);
    CHECK(me.i64("wallet.bonus_fen") == 0);
    CHECK(me.at("card")->IsNull());
    // The code is spent; a new one logs into the same account.
    auto reuse =
        st.post("/api/v1/auth/login", fmt::format(R"({{"phone":"13900000001","code":"{}"}})", code.str("dev_code")));
    CHECK(reuse.status == 401);
    auto again = st.rider("13900000001");
    CHECK(st.rider_id(again) == id);
    // Logout revokes the token.
    CHECK(st.post("/api/v1/auth/logout", "{}", token).status == 200);
    CHECK(st.get("/api/v1/me", token).status == 401);
    CHECK(st.get("/api/v1/me", again).status == 200);
    // Bad phones are refused before anything is stored.
    CHECK(st.post("/api/v1/auth/sms-code", R"({"phone":"12ab"})").code() == "invalid_request");
}

TEST_CASE("api rider: nearby stations are the enabled ones within the radius, nearest first, with open_now and socket "
          "counts") {
    Stack st;
    const auto admin = st.admin();
    const auto a = st.station(admin, "Garden A", 22.543096, 114.057865);
    const auto b = st.station(admin, "Garden B", 22.556, 114.057865); // ~1.4 km north
    const auto far = st.station(admin, "Far C", 22.62, 114.057865);   // ~8.5 km north
    // A station closed now: open for one hour starting 6 hours from now (local time).
    const auto local_h = ((SystemClock::instance().now_ms() / 1000 + 8 * 3600) / 3600 + 6) % 24;
    const auto closed = st.station(admin, "Closed D", 22.540, 114.050,
                                   fmt::format(R"(,"open_hours":"{:02}:00-{:02}:00")", local_h, (local_h + 1) % 24));
    (void)closed;
    auto pa = st.device(admin, "ga-p1", a, 10);
    st.device(admin, "gb-p1", b, 4);
    st.device(admin, "far-p1", far, 4);
    const auto rider = st.rider("13900000002");

    auto r = st.get("/api/v1/stations/nearby?lat=22.543096&lon=114.057865", rider);
    REQUIRE_MESSAGE(r.status == 200, r);
    REQUIRE(r.size("stations") == 3);
    CHECK(r.i64("stations.0.id") == a);
    CHECK(r.i64("stations.0.distance_m") == 0);
    CHECK(r.str("stations.1.name") == "Closed D");
    CHECK(r.i64("stations.2.id") == b);
    CHECK(r.i64("stations.2.distance_m") == doctest::Approx(1438).epsilon(0.01));
    CHECK(r.boolean("stations.0.open_now"));
    CHECK_FALSE(r.boolean("stations.1.open_now"));
    CHECK(r.i64("stations.0.total_sockets") == 10);
    CHECK(r.i64("stations.0.free_sockets") == 0); // offline
    CHECK(r.i64("stations.2.total_sockets") == 4);
    // A wider radius reaches the far station.
    CHECK(st.get("/api/v1/stations/nearby?lat=22.543096&lon=114.057865&radius_m=10000", rider).size("stations") == 4);
    CHECK(st.get("/api/v1/stations/nearby?lat=22.543096&lon=114.057865&radius_m=100", rider).size("stations") == 1);

    // The pile comes online with the credentials the API issued: its sockets are free.
    auto dev = bring_online(st, "ga-p1", pa.str("mqtt_password"));
    REQUIRE(eventually([&] {
        return st.get("/api/v1/stations/nearby?lat=22.543096&lon=114.057865", rider).i64("stations.0.free_sockets") ==
               10;
    }));
    dev->publish({topics::conn_state("ga-p1", 3),
                  R"({"v":1,"ts":1,"boot":1,"seq":2,"data":{"st":"charging","sid":"x","since":1,"faults":[]}})", 1,
                  true});
    CHECK(eventually([&] {
        return st.get("/api/v1/stations/nearby?lat=22.543096&lon=114.057865", rider).i64("stations.0.free_sockets") ==
               9;
    }));

    // Disabled things disappear: a socket, a device, a station.
    REQUIRE(st.put("/api/v1/admin/devices/ga-p1/ports/10", R"({"enabled":false})", admin).status == 200);
    CHECK(st.get("/api/v1/stations/nearby?lat=22.543096&lon=114.057865", rider).i64("stations.0.total_sockets") == 9);
    REQUIRE(st.put("/api/v1/admin/devices/gb-p1", R"({"enabled":false})", admin).status == 200);
    auto nb = st.get("/api/v1/stations/nearby?lat=22.543096&lon=114.057865", rider);
    CHECK(nb.i64("stations.2.total_sockets") == 0);
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}", a), R"({"enabled":false})", admin).status == 200);
    auto gone = st.get("/api/v1/stations/nearby?lat=22.543096&lon=114.057865", rider);
    CHECK(gone.size("stations") == 2);
    CHECK(gone.i64("stations.0.id") != a);
    CHECK(st.get(fmt::format("/api/v1/stations/{}", a), rider).status == 404);
    // Validation.
    CHECK(st.get("/api/v1/stations/nearby?lat=95&lon=1", rider).code() == "invalid_request");
    CHECK(st.get("/api/v1/stations/nearby?lon=1", rider).code() == "invalid_request");
    CHECK(st.get("/api/v1/stations/nearby?lat=1&lon=1&radius_m=0", rider).code() == "invalid_request");
    dev->stop();
}

TEST_CASE("api rider: a socket code shows its state, station and the modes with prices of the tariff in force") {
    Stack st;
    const auto admin = st.admin();
    const auto a = st.station(admin, "Garden A");
    st.device(admin, "qa-p1", a, 10);
    const auto rider = st.rider("13900000003");
    auto no_tariff = st.get("/api/v1/sockets/qa-p1-3", rider);
    REQUIRE_MESSAGE(no_tariff.status == 200, no_tariff);
    CHECK(no_tariff.size("modes") == 0);
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", a), kTariff, admin).status == 200);
    auto s = st.get("/api/v1/sockets/qa-p1-3", rider);
    REQUIRE(s.status == 200);
    CHECK(s.str("code") == "qa-p1-3");
    CHECK(s.str("state") == "offline");
    CHECK(s.i64("station.id") == a);
    CHECK(s.str("modes.0.mode") == "time");
    CHECK(s.i64("modes.0.fen_per_hour") == 100);
    CHECK(s.i64("modes.0.options.1.minutes") == 120);
    CHECK(s.i64("modes.0.options.1.price_fen") == 200);
    CHECK(s.str("modes.1.mode") == "power");
    CHECK(s.i64("modes.1.tiers.0.up_to_w") == 150);
    CHECK(s.i64("min_start_balance_fen") == 200);
    for (const char* bad : {"nope-1", "qa-p1-11", "qa-p1-0", "qa-p1-x", "qa-p1"})
        CHECK_MESSAGE(st.get(std::string("/api/v1/sockets/") + bad, rider).code() == "unknown_socket", bad);
    REQUIRE(st.put("/api/v1/admin/devices/qa-p1/ports/3", R"({"enabled":false})", admin).status == 200);
    CHECK(st.get("/api/v1/sockets/qa-p1-3", rider).code() == "unknown_socket");
}

TEST_CASE("api rider: starting answers 202 within 1 s, and every sessiond refusal keeps its code and HTTP status") {
    Stack st;
    auto fake = std::make_unique<FakeSessiond>(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto a = st.station(admin, "Garden A");
    st.device(admin, "sa-p1", a, 10);
    const auto rider = st.rider("13900000004");
    const auto t0 = std::chrono::steady_clock::now();
    auto ok = st.post("/api/v1/sessions", R"({"socket":"sa-p1-2","mode":"power"})", rider);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE_MESSAGE(ok.status == 202, ok);
    CHECK(elapsed < 1s);
    CHECK(ok.str("session.state") == "starting");
    CHECK(ok.str("session.socket") == "sa-p1-2");
    CHECK(!ok.str("session.id").empty());
    CHECK(fake->last_start().find(fmt::format(R"("account_id":{})", st.rider_id(rider))) != std::string::npos);
    CHECK(fake->last_start().find(R"("method":"app")") != std::string::npos);

    const std::vector<std::pair<std::string, int>> refusals{
        {"socket_busy", 409},    {"session_limit", 409},  {"device_offline", 503}, {"balance_too_low", 402},
        {"account_frozen", 403}, {"socket_faulted", 409}, {"invalid_mode", 422},   {"unknown_socket", 404}};
    for (const auto& [code, status] : refusals) {
        fake->refuse("sa-p1", code);
        auto r = st.post("/api/v1/sessions", R"({"socket":"sa-p1-5","mode":"time","minutes":60})", rider);
        CHECK_MESSAGE(r.status == status, code << ": " << r);
        CHECK_MESSAGE(r.code() == code, r);
    }
    fake->refuse("sa-p1", "");
    // Refused by the API itself, before sessiond.
    const auto calls = fake->calls();
    CHECK(st.post("/api/v1/sessions", R"({"socket":"ghost-1","mode":"power"})", rider).code() == "unknown_socket");
    CHECK(st.post("/api/v1/sessions", R"({"socket":"sa-p1-77","mode":"power"})", rider).code() == "unknown_socket");
    CHECK(st.post("/api/v1/sessions", R"({"socket":"sa-p1-5","mode":"turbo"})", rider).status == 422);
    CHECK(st.post("/api/v1/sessions", R"({"socket":"sa-p1-5","mode":"time"})", rider).code() == "invalid_mode");
    CHECK(st.post("/api/v1/sessions", R"({"socket":"sa-p1-5","mode":"power","minutes":0})", rider).code() ==
          "invalid_request");
    CHECK(st.post("/api/v1/sessions", R"({"mode":"power"})", rider).code() == "invalid_request");
    CHECK(fake->calls() == calls);
    // No session worker: timeout within the 1 s budget.
    fake.reset();
    const auto t1 = std::chrono::steady_clock::now();
    auto none = st.post("/api/v1/sessions", R"({"socket":"sa-p1-6","mode":"power"})", rider);
    CHECK(none.status == 504);
    CHECK(none.code() == "timeout");
    CHECK(std::chrono::steady_clock::now() - t1 < 1500ms);
}

TEST_CASE("api rider: a rider reads and stops only their own sessions; another rider's are 404") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto a = st.station(admin, "Garden A");
    st.device(admin, "oa-p1", a, 10);
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", a), kTariff, admin).status == 200);
    const auto alice = st.rider("13900000005"), bob = st.rider("13900000006");
    auto started = st.post("/api/v1/sessions", R"({"socket":"oa-p1-1","mode":"power"})", alice);
    REQUIRE(started.status == 202);
    const auto sid = started.str("session.id");

    // Bob cannot see, list or stop it.
    CHECK(st.get("/api/v1/sessions/" + sid, bob).status == 404);
    CHECK(st.get("/api/v1/sessions/" + sid, bob).code() == "not_found");
    CHECK(st.post("/api/v1/sessions/" + sid + "/stop", "{}", bob).status == 404);
    CHECK(st.get("/api/v1/sessions?state=all", bob).size("sessions") == 0);
    CHECK(st.get("/api/v1/sessions/no-such-session", alice).status == 404);

    // sessiond and recorderd move it on: charging, with telemetry.
    const auto now = SystemClock::instance().now_ms();
    {
        auto d = st.db();
        db::Statement(d, "UPDATE sessions SET state = 'charging', started_at = ?, energy_wh = 12, last_power_w = 180, "
                         "tariff_id = (SELECT id FROM tariffs LIMIT 1) WHERE id = ?")
            .bind_all(now - 600'000, sid)
            .run();
    }
    for (int i = 0; i <= 10; ++i)
        add_sample(st.dir(), sid, now - 600'000 + i * 60'000, 180, i * 2);
    auto live = st.get("/api/v1/sessions/" + sid, alice);
    REQUIRE_MESSAGE(live.status == 200, live);
    CHECK(live.str("state") == "charging");
    CHECK(live.str("socket") == "oa-p1-1");
    CHECK(live.str("mode") == "power");
    CHECK(live.i64("power_w") == 180);
    CHECK(live.i64("energy_wh") == 12);
    CHECK(live.i64("duration_s") >= 600);
    CHECK(live.i64("cost_fen") == 5); // 10 min at the 300 W tier (30 fen/h)
    CHECK(live.at("stop_reason")->IsNull());
    CHECK(!live.str("started_at").empty());
    CHECK(live.size("curve") == 11);
    CHECK(live.i64("curve.10.energy_wh") == 20);
    auto active = st.get("/api/v1/sessions?state=active", alice);
    REQUIRE(active.size("sessions") == 1);
    CHECK(active.str("sessions.0.id") == sid);

    auto stop = st.post("/api/v1/sessions/" + sid + "/stop", "{}", alice);
    REQUIRE_MESSAGE(stop.status == 202, stop);
    CHECK(stop.str("session.state") == "stopping");
    {
        auto d = st.db();
        db::Statement(d, "UPDATE sessions SET state = 'completed', ended_at = ?, stop_reason = 'user_stop', cost_fen = "
                         "5 WHERE id = ?")
            .bind_all(now, sid)
            .run();
    }
    CHECK(st.post("/api/v1/sessions/" + sid + "/stop", "{}", alice).code() == "conflict");
    auto done = st.get("/api/v1/sessions/" + sid, alice);
    CHECK(done.str("stop_reason") == "user_stop");
    CHECK(done.i64("cost_fen") == 5);
    CHECK(st.get("/api/v1/sessions?state=active", alice).size("sessions") == 0);
    CHECK(st.get("/api/v1/sessions?state=all", alice).size("sessions") == 1);
    CHECK(st.get("/api/v1/sessions?state=bogus", alice).code() == "invalid_request");
}

TEST_CASE("api rider: a sandbox recharge credits the wallet exactly once; the ledger is newest first") {
    Stack st;
    const auto admin = st.admin();
    const auto rider = st.rider("13900000007"), other = st.rider("13900000008");
    auto pay = st.post("/api/v1/wallet/recharge", R"({"amount_fen":5000})", rider);
    REQUIRE_MESSAGE(pay.status == 201, pay);
    const auto pid = pay.str("payment.id");
    CHECK(pay.str("payment.status") == "pending");
    CHECK(pay.i64("payment.amount_fen") == 5000);
    CHECK(st.get("/api/v1/payments/" + pid, other).status == 404);
    auto confirm = st.post("/api/v1/pay/sandbox/" + pid + "/confirm", "{}", rider);
    REQUIRE_MESSAGE(confirm.status == 200, confirm);
    CHECK(confirm.str("status") == "credited");
    auto replay = st.post("/api/v1/pay/sandbox/" + pid + "/confirm", "{}", rider);
    CHECK(replay.status == 200);
    CHECK(replay.str("status") == "replayed");
    CHECK(st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 5000);
    CHECK(st.get("/api/v1/payments/" + pid, rider).str("payment.status") == "paid");

    auto pkg = st.post("/api/v1/admin/packages", R"({"name":"pay 50 get 1","pay_fen":5000,"bonus_fen":100})", admin);
    REQUIRE_MESSAGE(pkg.status == 201, pkg);
    auto wallet = st.get("/api/v1/wallet", rider);
    CHECK(wallet.size("packages") == 1);
    auto pay2 = st.post("/api/v1/wallet/recharge", fmt::format(R"({{"package_id":{}}})", pkg.i64("id")), rider);
    REQUIRE_MESSAGE(pay2.status == 201, pay2);
    REQUIRE(st.post("/api/v1/pay/sandbox/" + pay2.str("payment.id") + "/confirm", "{}", rider).status == 200);
    auto me = st.get("/api/v1/me", rider);
    CHECK(me.i64("wallet.balance_fen") == 10000);
    CHECK(me.i64("wallet.bonus_fen") == 100);

    auto ledger = st.get("/api/v1/wallet/ledger", rider);
    REQUIRE(ledger.size("entries") == 2);
    CHECK(ledger.i64("entries.0.id") > ledger.i64("entries.1.id"));
    CHECK(ledger.str("entries.0.kind") == "recharge");
    CHECK(ledger.i64("entries.0.bonus_fen") == 100);
    CHECK(ledger.i64("entries.0.real_after") == 10000);
    CHECK(ledger.i64("entries.1.real_fen") == 5000);
    CHECK(!ledger.str("entries.1.at").empty());
    CHECK(st.get("/api/v1/wallet/ledger", other).size("entries") == 0);

    CHECK(st.post("/api/v1/wallet/recharge", R"({"amount_fen":100,"package_id":1})", rider).code() ==
          "invalid_request");
    CHECK(st.post("/api/v1/wallet/recharge", R"({})", rider).code() == "invalid_request");
    CHECK(st.post("/api/v1/wallet/recharge", R"({"amount_fen":0})", rider).code() == "invalid_request");
    CHECK(st.post("/api/v1/wallet/recharge", R"({"package_id":999})", rider).status == 404);
    CHECK(st.post("/api/v1/pay/sandbox/pay_nope/confirm", "{}", rider).status == 404);
}

TEST_CASE("api rider: cards bind, unbind and report lost; a card binds to one account at most") {
    Stack st;
    const auto admin = st.admin();
    const auto a = st.station(admin, "Garden A");
    for (const char* no : {"CARD0001", "CARD0002"})
        REQUIRE(st.money("/api/v1/admin/cards", fmt::format(R"({{"card_no":"{}","station_id":{}}})", no, a), admin)
                    .status == 201);
    const auto alice = st.rider("13900000010"), bob = st.rider("13900000011");
    auto bind = st.post("/api/v1/cards/bind", R"({"card_no":"CARD0001","name":"blue"})", alice);
    REQUIRE_MESSAGE(bind.status == 200, bind);
    CHECK(bind.str("card.status") == "active");
    CHECK(st.get("/api/v1/me", alice).str("card.card_no") == "CARD0001");
    CHECK(st.post("/api/v1/cards/bind", R"({"card_no":"CARD0001"})", bob).code() == "conflict");
    CHECK(st.post("/api/v1/cards/bind", R"({"card_no":"CARD0002"})", alice).code() == "conflict"); // one per account
    CHECK(st.post("/api/v1/cards/bind", R"({"card_no":"NOSUCH99"})", bob).code() == "unknown_card");
    REQUIRE(st.post("/api/v1/cards/unbind", "{}", alice).status == 200);
    CHECK(st.get("/api/v1/me", alice).at("card")->IsNull());
    CHECK(st.post("/api/v1/cards/unbind", "{}", alice).status == 404);
    REQUIRE(st.post("/api/v1/cards/bind", R"({"card_no":"CARD0001"})", bob).status == 200);
    auto lost = st.post("/api/v1/cards/report-lost", "{}", bob);
    REQUIRE(lost.status == 200);
    CHECK(lost.str("status") == "lost");
    auto relost = st.post("/api/v1/cards/bind", R"({"card_no":"CARD0001"})", alice);
    CHECK(relost.status == 403);
    CHECK(relost.code() == "card_lost");
    CHECK(st.post("/api/v1/cards/report-lost", "{}", bob).status == 404);
}

TEST_CASE("api rider: binding a card pays its fee as a bind at the counter does; a wallet that cannot pay is refused") {
    Stack st;
    const auto admin = st.admin();
    const auto a = st.station(admin, "Garden A");
    REQUIRE(st.money("/api/v1/admin/cards", fmt::format(R"({{"card_no":"FEE00001","station_id":{},"fee_fen":500}})", a),
                     admin)
                .status == 201);
    const auto rider = st.rider("13900000031");
    // An empty wallet cannot pay the fee: refused, and the card stays unbound.
    auto poor = st.post("/api/v1/cards/bind", R"({"card_no":"FEE00001"})", rider);
    CHECK(poor.status == 402);
    CHECK(poor.code() == "balance_too_low");
    CHECK(st.get("/api/v1/me", rider).at("card")->IsNull());
    auto pay = st.post("/api/v1/wallet/recharge", R"({"amount_fen":2000})", rider);
    REQUIRE(st.post("/api/v1/pay/sandbox/" + pay.str("payment.id") + "/confirm", "{}", rider).status == 200);
    auto bind = st.post("/api/v1/cards/bind", R"({"card_no":"FEE00001"})", rider);
    REQUIRE_MESSAGE(bind.status == 200, bind);
    CHECK(st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 1500);
    auto ledger = st.get("/api/v1/wallet/ledger", rider);
    REQUIRE(ledger.size("entries") == 2);
    CHECK(ledger.str("entries.0.kind") == "card_fee");
    CHECK(ledger.i64("entries.0.real_fen") == -500);
    CHECK(ledger.str("entries.0.ref") == "FEE00001");
    // Binding again, or unbinding and binding the same card again, does not charge twice.
    REQUIRE(st.post("/api/v1/cards/bind", R"({"card_no":"FEE00001"})", rider).status == 200);
    REQUIRE(st.post("/api/v1/cards/unbind", "{}", rider).status == 200);
    REQUIRE(st.post("/api/v1/cards/bind", R"({"card_no":"FEE00001"})", rider).status == 200);
    CHECK(st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 1500);
    CHECK(st.get("/api/v1/wallet/ledger", rider).size("entries") == 2);
}
