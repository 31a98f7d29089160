// The whole chain through the API with the real workers: a pile registered through the API runs in
// pilehub-sim with the credentials the API issued; sessiond starts and stops it, recorderd records
// its power curve, billingd settles it into the ledger; the rider and the operator see it all over
// HTTP. Skipped (with a message) when the workers are not built.
#include "api_stack.hpp"

#include "common/ledger.hpp"

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

/// A worker daemon on the stack's data directory (its MQTT password is there already).
class Worker {
public:
    Worker(const Stack& st, std::string name, std::vector<std::string> sets = {})
        : name_(std::move(name)), dir_(st.dir()) {
        std::vector<std::string> argv{binary(name_), "--set", "data_dir=" + dir_, "--set",
                                      fmt::format("mqtt.port={}", const_cast<Stack&>(st).broker().port())};
        for (const auto& s : sets) {
            argv.push_back("--set");
            argv.push_back(s);
        }
        const auto ready = dir_ + "/run/" + name_ + ".ready";
        fs::remove(ready);
        SpawnOptions o;
        o.output = dir_ + "/" + name_ + ".log";
        proc_ = Process::spawn(argv, o);
        for (int i = 0; i < 600 && !fs::exists(ready); ++i) {
            if (!proc_.running())
                FAIL(name_ << " exited during start-up:\n" << tail(slurp(o.output)));
            std::this_thread::sleep_for(25ms);
        }
        REQUIRE_MESSAGE(fs::exists(ready), name_ << " not ready:\n" << tail(slurp(o.output)));
    }
    ~Worker() {
        if (proc_.pid())
            proc_.stop();
    }
    static std::string binary(const std::string& name) {
        return std::string(PILEHUB_BINARY_DIR) + "/workers/" + name + "/" + name;
    }
    static bool built(const std::string& name) { return fs::exists(binary(name)); }

private:
    std::string name_, dir_;
    Process proc_;
};

} // namespace

TEST_CASE("api e2e: a rider recharges in the sandbox, charges in power mode at a pile registered through the API, "
          "and finds the session's cost and one matching ledger entry") {
    for (const char* w : {"sessiond", "billingd", "recorderd", "pilehub-sim"}) {
        if (!Worker::built(w)) {
            MESSAGE("skipped: " << w << " is not built in " << PILEHUB_BINARY_DIR);
            return;
        }
    }
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
    SpawnOptions so;
    so.output = st.dir() + "/sim.log";
    auto sim = Process::spawn({std::string(PILEHUB_BINARY_DIR) + "/workers/pilehub-sim/pilehub-sim", "--fleet",
                               st.dir() + "/fleet.json", "--state-dir", st.dir() + "/sim", "--port",
                               std::to_string(st.broker().port()), "--speed", "10", "--tele-period-s", "2"},
                              so);

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
    CHECK(start.str("session.state") == "starting");
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
