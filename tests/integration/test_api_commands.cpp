// The command log and commissioning through the API with the real workers (seed 004 指令列表 and
// 远程控制): an operator runs the sockets of a simulated pile for a set time, free; every command
// sessiond sends is logged with who asked, its rid, the reply and its latency, or its time-out.
// Skipped (with a message) when the workers are not built.
#include "api_stack.hpp"

#include "common/ledger.hpp"

#include <csignal>

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

/// The logged command `name` of session `sid` in the device's command log, once it has an outcome
/// other than pending (the log is written once per sessiond tick); its index, or -1.
int logged(const Stack& st, const std::string& admin, const std::string& device, const std::string& name,
           const std::string& sid) {
    const auto log = st.get("/api/v1/admin/commands?device=" + device + "&name=" + name, admin);
    for (std::size_t i = 0; i < log.size("commands"); ++i) {
        const auto at = fmt::format("commands.{}.", i);
        if (log.str(at + "session_id") == sid && log.str(at + "outcome") != "pending")
            return static_cast<int>(i);
    }
    return -1;
}

} // namespace

TEST_CASE("commissioning: an operator runs a socket of a simulated pile for a set time and stops it: a session of "
          "method operator with the operator's name, cost 0 and no ledger row; the pile is not relocated or retired "
          "while it runs, and once moved the session keeps its station; start-all runs every idle socket; "
          "the command log shows each command with who asked, rid, reply and latency, and a silent pile's time-out") {
    if (!all_built({"sessiond", "billingd", "recorderd", "autostopd", "pilehub-sim"}))
        return;
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Commissioning Station");
    // A tariff that would cost a lot: commissioning is free whatever it says.
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station),
                   R"({"tariff":{"name":"dear","timezone":"Asia/Shanghai","modes":["time","power"],
                       "time":{"fen_per_hour":36000,"options_minutes":[60]},
                       "power":{"tiers":[{"up_to_w":2000,"fen_per_hour":36000}],"ignore_first_s":0},
                       "min_start_balance_fen":200}})",
                   admin)
                .status == 200);
    auto dev = st.device(admin, "cm-p1", station, 4);
    {
        std::ofstream f(st.dir() + "/fleet.json");
        f << fmt::format(R"({{"devices":[{{"id":"cm-p1","kind":"ebike_pile","sockets":4,"password":"{}"}}]}})",
                         dev.str("mqtt_password"));
    }
    // A device command times out 1.5 s (+ 2 s grace) after it is sent: well within the API's wait.
    Worker sessiond(st, "sessiond", {"sessiond.command_timeout_ms=1500"});
    Worker billingd(st, "billingd", {"billingd.scan_period_s=1", "billingd.cost_period_s=1"});
    Worker recorderd(st, "recorderd");
    Worker autostopd(st, "autostopd");
    auto sim = spawn_sim(st, 10, {"--tele-period-s", "2"});
    const auto rider = st.rider("13000000009");
    auto socket_free = [&](int n) {
        return st.get(fmt::format("/api/v1/sockets/cm-p1-{}", n), rider).str("state") == "free";
    };
    REQUIRE_MESSAGE(eventually([&] { return socket_free(1); }, 20s), "the simulated pile never came online:\n"
                                                                         << tail(slurp(st.dir() + "/sim.log")));

    // Out of range: 1..720 minutes.
    CHECK(st.post("/api/v1/admin/devices/cm-p1/ports/1/start", R"({"minutes":721})", admin).status == 400);
    CHECK(st.post("/api/v1/admin/devices/cm-p1/ports/1/stop", "{}", admin).status == 404);

    auto start = st.post("/api/v1/admin/devices/cm-p1/ports/1/start", R"({"minutes":10})", admin);
    REQUIRE_MESSAGE(start.status == 202, start);
    const auto sid = start.str("session.id");
    CHECK(start.str("session.method") == "operator");
    CHECK(start.str("session.operator") == "admin");
    CHECK(start.i64("session.minutes") == 10);
    REQUIRE_MESSAGE(
        eventually([&] { return st.get("/api/v1/admin/sessions/" + sid, admin).str("state") == "charging"; }, 15s),
        st.get("/api/v1/admin/sessions/" + sid, admin));
    CHECK(st.get("/api/v1/admin/sessions/" + sid, admin).i64("cost_fen") == 0); // free while it runs too
    // Lifecycle (CONTRACT G): a pile with a live session is neither relocated nor retired.
    const auto elsewhere = st.station(admin, "Elsewhere");
    const auto move_to = [&](std::int64_t to) {
        return st.put("/api/v1/admin/devices/cm-p1", fmt::format(R"({{"station_id":{}}})", to), admin);
    };
    auto refused = move_to(elsewhere);
    CHECK_MESSAGE(refused.status == 409, refused);
    CHECK(st.post("/api/v1/admin/devices/cm-p1/retire", "{}", admin).status == 409);
    CHECK(st.get("/api/v1/admin/devices/cm-p1", admin).i64("station_id") == station);
    std::this_thread::sleep_for(2s);

    auto stop = st.post("/api/v1/admin/devices/cm-p1/ports/1/stop", "{}", admin);
    REQUIRE_MESSAGE(stop.status == 202, stop);
    REQUIRE_MESSAGE(
        eventually([&] { return st.get("/api/v1/admin/sessions/" + sid, admin).str("state") == "completed"; }, 30s),
        st.get("/api/v1/admin/sessions/" + sid, admin));
    auto done = st.get("/api/v1/admin/sessions/" + sid, admin);
    CHECK(done.i64("cost_fen") == 0);
    CHECK(done.str("method") == "operator");
    CHECK(done.str("operator") == "admin");
    CHECK(done.i64("account_id") == 0);
    CHECK(done.size("events") >= 3);
    CHECK(st.get("/api/v1/admin/sessions?method=operator", admin).size("sessions") == 1);
    {
        auto d = st.db();
        db::Statement ledger_rows(d, "SELECT count(*) FROM ledger WHERE ref = ?1 OR idempotency_key = 'settle:' || ?1");
        ledger_rows.bind_all(sid);
        REQUIRE(ledger_rows.step());
        CHECK(ledger_rows.int64(0) == 0);
        db::Statement settlements(d, "SELECT count(*) FROM settlements WHERE session_id = ?1");
        settlements.bind_all(sid);
        REQUIRE(settlements.step());
        CHECK(settlements.int64(0) == 0);
        db::Statement operator_col(d, "SELECT method, operator_name, account_id IS NULL FROM sessions WHERE id = ?1");
        operator_col.bind_all(sid);
        REQUIRE(operator_col.step());
        CHECK(operator_col.text(0) == "operator");
        CHECK(operator_col.text(1) == "admin");
        CHECK(operator_col.int64(2) == 1);
        CHECK(ledger::audit(d).empty());
    }
    // Idle again, it moves; the session keeps the station it ran at. Then back, for what follows.
    auto moved = move_to(elsewhere);
    CHECK_MESSAGE(moved.status == 200, moved);
    CHECK(st.get("/api/v1/admin/devices/cm-p1", admin).i64("station_id") == elsewhere);
    CHECK(st.get("/api/v1/admin/sessions/" + sid, admin).i64("station_id") == station);
    REQUIRE(move_to(station).status == 200);

    // The command log: both commands, who asked, their rid, the pile's reply and the latency.
    REQUIRE_MESSAGE(eventually([&] { return logged(st, admin, "cm-p1", "stop_port", sid) >= 0; }, 10s),
                    st.get("/api/v1/admin/commands?device=cm-p1", admin));
    for (const auto& [name, rid] : {std::pair<std::string, std::string>{"start_port", sid + ".start"},
                                    std::pair<std::string, std::string>{"stop_port", sid + ".stop"}}) {
        const auto i = logged(st, admin, "cm-p1", name, sid);
        REQUIRE_MESSAGE(i >= 0, name);
        const auto log = st.get("/api/v1/admin/commands?device=cm-p1&name=" + name, admin);
        const auto at = fmt::format("commands.{}.", i);
        CHECK(log.str(at + "requested_by") == "admin");
        CHECK(log.str(at + "rid") == rid);
        CHECK(log.str(at + "reply_status") == "ok");
        CHECK(log.str(at + "outcome") == "ok");
        CHECK(log.i64(at + "latency_ms") >= 0);
        CHECK(log.i64(at + "n") == 1);
        CHECK(log.str(at + "source") == "sessiond");
    }
    CHECK(st.get("/api/v1/admin/devices/cm-p1/commands?name=start_port", admin).size("commands") == 1);
    // ...and in the export, as other lists have one.
    const auto csv = st.get("/api/v1/admin/exports/commands?device=cm-p1&format=csv", admin);
    REQUIRE(csv.status == 200);
    CHECK(csv.body.find("requested_by") != std::string::npos);
    CHECK(csv.body.find(sid + ".start") != std::string::npos);
    CHECK(csv.body.find(sid + ".stop") != std::string::npos);

    // start-all: every idle enabled socket, one answer per port.
    REQUIRE(eventually([&] { return socket_free(1); }, 15s));
    auto all = st.post("/api/v1/admin/devices/cm-p1/ports/start-all", R"({"minutes":5})", admin);
    REQUIRE_MESSAGE(all.status == 202, all);
    REQUIRE(all.size("ports") == 4);
    CHECK(all.i64("started") == 4);
    for (int i = 0; i < 4; ++i) {
        CHECK(all.i64(fmt::format("ports.{}.n", i)) == i + 1);
        CHECK_MESSAGE(all.boolean(fmt::format("ports.{}.started", i)), all);
    }
    CHECK(eventually(
        [&] { return st.get("/api/v1/admin/sessions?method=operator&state=charging", admin).size("sessions") == 4; },
        15s));
    // Again: every socket is busy now, each refused with its code.
    auto again = st.post("/api/v1/admin/devices/cm-p1/ports/start-all", R"({"minutes":5})", admin);
    REQUIRE_MESSAGE(again.status == 202, again);
    CHECK(again.i64("started") == 0);
    CHECK(again.str("ports.0.code") == "socket_busy");

    // A pile that has gone silent (frozen: still connected, answering nothing): the operator's command
    // times out, and the log says so.
    REQUIRE(sim.signal(SIGSTOP));
    auto q = st.post("/api/v1/admin/devices/cm-p1/commands/query_device", "{}", admin);
    CHECK_MESSAGE(q.status == 504, q);
    REQUIRE(sim.signal(SIGCONT));
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return st.get("/api/v1/admin/commands?device=cm-p1&name=query_device&outcome=timeout",
                                          admin)
                                       .size("commands") == 1;
                        },
                        10s),
                    st.get("/api/v1/admin/commands?device=cm-p1", admin));
    auto to = st.get("/api/v1/admin/commands?device=cm-p1&name=query_device", admin);
    CHECK(to.str("commands.0.requested_by") == "admin");
    CHECK(to.at("commands.0.reply_status")->IsNull());
    CHECK(to.at("commands.0.latency_ms")->IsNull());
    CHECK(to.str("commands.0.rid").rfind("dc-", 0) == 0);
    sim.stop();
}
