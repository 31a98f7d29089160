// pilehub-ocpp end to end (issue 11, CONTRACT D.2): a real OCPP 1.6-J charge point (npm ocpp-rpc 2.2.1
// in strict mode: every message the gateway sends is checked against the official schemas) talks to
// the real gateway, which talks to the real broker, sessiond, billingd, autostopd, recorderd and
// presenced; the charger is registered, and riders start and stop, through the real pilehub-api.
#include "tests/integration/api_stack.hpp"
#include "tests/ocpp/ocpp_peer.hpp"

#include "common/ledger.hpp"
#include "common/tariff.hpp"

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

/// The time now as an OCPP charger writes it (UTC, to the millisecond: the test's sessions last seconds).
std::string now_text(std::chrono::milliseconds ago = 0ms) {
    return billing::format_rfc3339(SystemClock::instance().now_ms() - ago.count(), 0);
}

std::string at(const std::string& json, const std::string& path) {
    return json_text_at(json, path).value_or("<missing " + path + ">");
}

/// The API stack, the workers, the gateway on free ports, and one OCPP charger `oc1` with two 120 kW
/// DC guns registered through the API at a station that prices cars by energy: 1.00 yuan electricity +
/// 0.80 yuan service a kWh, so every kWh costs 180 fen.
struct OcppWorld {
    int port = free_tcp_port();
    int tls_port = free_tcp_port();
    Stack st{stack_options()};
    std::string admin = st.admin();
    std::int64_t station = st.station(admin, "OCPP Station");
    std::string password;
    std::optional<Worker> sessiond, billingd, autostopd, recorderd, presenced, gateway;

    explicit OcppWorld(bool workers = true) {
        std::string slots;
        for (int i = 0; i < 48; ++i)
            slots += i ? R"(,"flat")" : R"("flat")";
        REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station),
                       fmt::format(R"({{"tariff":{{"name":"cars","timezone":"Asia/Shanghai","modes":["energy"],
                           "energy":{{"periods":{{"flat":{{"elec_e4":10000,"service_e4":8000}}}},
                                     "slots":[{}],"service_by":"energy"}},"min_start_balance_fen":200}}}})",
                                   slots),
                       admin)
                    .status == 200);
        auto reg =
            st.post("/api/v1/admin/devices",
                    fmt::format(R"({{"id":"oc1","kind":"ev_charger","station_id":{},"guns":2,"protocol":"ocpp1.6",)"
                                R"("connectors":[{{"n":1,"type":"gbt_dc","rated_power_w":120000}},)"
                                R"({{"n":2,"type":"gbt_dc","rated_power_w":120000}}]}})",
                                station),
                    admin);
        REQUIRE_MESSAGE(reg.status == 201, reg);
        CHECK(reg.str("ocpp_url") == fmt::format("ws://127.0.0.1:{}/ocpp/oc1", port));
        password = reg.str("ocpp_password");
        REQUIRE(!password.empty());
        if (workers) {
            // The charge point reports energy as fast as the test likes: a record may hold far more
            // than 120 kW over the seconds the test takes.
            sessiond.emplace(st, "sessiond", std::vector<std::string>{"sessiond.device_time_scale=10000"});
            billingd.emplace(st, "billingd",
                             std::vector<std::string>{"billingd.scan_period_s=1", "billingd.cost_period_s=1"});
            autostopd.emplace(st, "autostopd");
            recorderd.emplace(st, "recorderd");
        }
        presenced.emplace(st, "presenced"); // the API's `online` comes from its presence log
        start_gateway();
    }

    StackOptions stack_options() const {
        StackOptions o;
        o.sets = {fmt::format("ocpp.public_url=ws://127.0.0.1:{}/ocpp", port),
                  fmt::format("ocpp.public_tls_url=wss://localhost:{}/ocpp", tls_port)};
        return o;
    }

    void start_gateway() {
        gateway.emplace(st, "pilehub-ocpp",
                        std::vector<std::string>{fmt::format("ocpp.port={}", port),
                                                 fmt::format("ocpp.tls_port={}", tls_port),
                                                 "pilehub-ocpp.bind=127.0.0.1", "pilehub-ocpp.record_resend_s=1"});
    }

    ConnectOptions plain(const std::string& id = "oc1", std::optional<std::string> pw = std::nullopt) const {
        return {fmt::format("ws://127.0.0.1:{}/ocpp", port), id, pw ? pw : password};
    }

    /// A charge point connected and booted, its connectors Available.
    std::unique_ptr<OcppPeer> charger(const std::string& log_name = "cp") {
        auto cp = std::make_unique<OcppPeer>(st.dir() + "/" + log_name + ".log");
        const auto c = cp->connect(plain());
        REQUIRE_MESSAGE(c.ok, c.http_status << " " << c.error_message << "\n"
                                            << tail(slurp(st.dir() + "/pilehub-ocpp.log")));
        boot(*cp);
        return cp;
    }
    void boot(OcppPeer& cp) {
        const auto b = cp.call("BootNotification", R"({"chargePointVendor":"Acme","chargePointModel":"DC120",
            "chargePointSerialNumber":"SN-1","firmwareVersion":"2.0.1"})");
        REQUIRE_MESSAGE(b.ok, b.error_kind << " " << b.error_code << " " << b.error_message);
        CHECK(at(b.result_json, "status") == "Accepted");
        for (int n = 0; n <= 2; ++n)
            status(cp, n, "Available");
    }
    void status(OcppPeer& cp, int n, const std::string& st_word, const std::string& error = "NoError") {
        const auto r = cp.call("StatusNotification", fmt::format(R"({{"connectorId":{},"errorCode":"{}","status":"{}",
            "timestamp":"{}"}})",
                                                                 n, error, st_word, now_text()));
        REQUIRE_MESSAGE(r.ok, r.error_kind << " " << r.error_code << " " << r.error_message);
    }
    /// StartTransaction; returns {transactionId, idTagInfo.status}.
    std::pair<std::int64_t, std::string> start(OcppPeer& cp, int n, const std::string& tag, std::int64_t meter) {
        const auto r = cp.call("StartTransaction", fmt::format(R"({{"connectorId":{},"idTag":"{}","meterStart":{},
            "timestamp":"{}"}})",
                                                               n, tag, meter, now_text()));
        REQUIRE_MESSAGE(r.ok, r.error_kind << " " << r.error_code << " " << r.error_message);
        return {std::stoll(at(r.result_json, "transactionId")), at(r.result_json, "idTagInfo.status")};
    }
    void meter(OcppPeer& cp, int n, std::int64_t tx, std::int64_t wh, int soc = 50, double kw = 60) {
        const auto r =
            cp.call("MeterValues", fmt::format(R"({{"connectorId":{},"transactionId":{},"meterValue":[
            {{"timestamp":"{}","sampledValue":[
              {{"value":"{:.3f}","measurand":"Energy.Active.Import.Register","unit":"kWh","context":"Sample.Periodic"}},
              {{"value":"{}","measurand":"Power.Active.Import","unit":"kW"}},
              {{"value":"{}","measurand":"SoC","unit":"Percent","location":"EV"}}]}}]}})",
                                               n, tx, now_text(), static_cast<double>(wh) / 1000.0, kw, soc));
        REQUIRE_MESSAGE(r.ok, r.error_kind << " " << r.error_code << " " << r.error_message);
    }
    void stop(OcppPeer& cp, std::int64_t tx, std::int64_t wh, const std::string& reason,
              const std::string& extra = "") {
        const auto r = cp.call("StopTransaction", fmt::format(R"({{"transactionId":{},"meterStop":{},"timestamp":"{}",
            "reason":"{}"{}}})",
                                                              tx, wh, now_text(), reason, extra));
        REQUIRE_MESSAGE(r.ok, r.error_kind << " " << r.error_code << " " << r.error_message);
    }

    std::string rider(const std::string& phone, std::int64_t fen = 50'000) {
        const auto who = st.rider(phone);
        auto pay = st.post("/api/v1/wallet/recharge", fmt::format(R"({{"amount_fen":{}}})", fen), who);
        REQUIRE(st.post("/api/v1/pay/sandbox/" + pay.str("payment.id") + "/confirm", "{}", who).status == 200);
        return who;
    }
    Http session(const std::string& sid) { return st.get("/api/v1/admin/sessions/" + sid, admin); }
    std::string state(const std::string& sid) { return session(sid).str("state"); }
    bool reaches(const std::string& sid, const std::string& want, std::chrono::milliseconds limit = 20s) {
        return eventually([&] { return state(sid) == want; }, limit);
    }
    /// The session id of the live or latest session on gun `n` of oc1.
    std::string sid_on(int n) {
        auto d = st.db();
        db::Statement q(d,
                        "SELECT id FROM sessions WHERE device_id = 'oc1' AND n = ?1 ORDER BY created_at DESC LIMIT 1");
        q.bind(1, n);
        return q.step() ? q.text(0) : std::string();
    }
    std::int64_t charges_for(const std::string& sid) {
        auto d = st.db();
        db::Statement q(d, "SELECT count(*) FROM ledger WHERE kind = 'charge' AND ref = ?1");
        q.bind(1, sid);
        q.step();
        return q.int64(0);
    }
    std::string logs() {
        return "--- gateway\n" + tail(slurp(st.dir() + "/pilehub-ocpp.log"), 30) + "--- sessiond\n" +
               tail(slurp(st.dir() + "/sessiond.log"), 20);
    }
};

} // namespace

TEST_CASE("ocpp: the handshake refuses a wrong key, an unknown charger and a missing subprotocol before any "
          "upgrade; TLS (profile 2) with the development CA; an invalid CALL gets its CALLERROR and the "
          "connection goes on; a second connection replaces the first") {
    OcppWorld w(false);
    OcppPeer cp(w.st.dir() + "/cp.log");
    auto c = cp.connect(w.plain("oc1", "not-the-key"));
    CHECK_FALSE(c.ok);
    CHECK(c.http_status == 401);
    c = cp.connect(w.plain("nobody", w.password));
    CHECK(c.http_status == 401);
    auto o = w.plain();
    o.protocols = {"ocpp2.0.1"};
    c = cp.connect(o);
    CHECK_FALSE(c.ok);
    CHECK(c.http_status == 400);

    // Profile 2: the same key over TLS, trusting the installation's CA.
    ConnectOptions tls{fmt::format("wss://localhost:{}/ocpp", w.tls_port), "oc1", w.password};
    tls.ca_file = w.st.broker().ca_file();
    c = cp.connect(tls);
    REQUIRE_MESSAGE(c.ok, c.error_kind << " " << c.error_code << " " << c.error_message << "\n" << w.logs());
    CHECK(c.protocol == "ocpp1.6");
    w.boot(cp);
    // The broker sees the charger online, under its own identity.
    REQUIRE(eventually([&] { return w.st.get("/api/v1/admin/devices/oc1", w.admin).boolean("presence.online"); }, 10s));

    // An invalid CALL (sent raw: strict mode would not let it out) is answered with the code the
    // specification names, and the charger is still served.
    cp.raw(R"([2,"bad-1","BootNotification",{"chargePointVendor":"Acme"}])");
    auto reply = cp.wait_event("raw_message");
    REQUIRE(reply);
    const auto text = at(*reply, "text");
    CHECK(text.find(R"("bad-1")") != std::string::npos);
    CHECK(text.find("OccurenceConstraintViolation") != std::string::npos);
    cp.raw(R"([2,"bad-2","Teleport",{}])");
    reply = cp.wait_event("raw_message");
    REQUIRE(reply);
    CHECK(at(*reply, "text").find("NotImplemented") != std::string::npos);
    CHECK(cp.call("Heartbeat", "{}").ok);

    // A second connection of the same charger replaces the first.
    OcppPeer second(w.st.dir() + "/cp2.log");
    REQUIRE(second.connect(w.plain()).ok);
    CHECK(cp.wait_event("close", 10s));
    CHECK(second.call("Heartbeat", "{}").ok);
    CHECK_FALSE(cp.wait_event("strict_violation", 0ms));
    CHECK_FALSE(second.wait_event("strict_violation", 0ms));
    second.close();

    // The operator rotates the key: the old one is refused from the next connection on, the new one works.
    const auto rotated = w.st.post("/api/v1/admin/devices/oc1/credentials", "{}", w.admin);
    REQUIRE_MESSAGE(rotated.ok(), rotated);
    const auto new_key = rotated.str("ocpp_password");
    CHECK(new_key != w.password);
    OcppPeer third(w.st.dir() + "/cp3.log");
    CHECK(third.connect(w.plain("oc1", w.password)).http_status == 401);
    CHECK(third.connect(w.plain("oc1", new_key)).ok);
    CHECK(third.call("Heartbeat", "{}").ok);
}

TEST_CASE("ocpp: a rider starts a car from the API: RemoteStart, StartTransaction, MeterValues, the rider's stop, "
          "RemoteStop, StopTransaction, and the bill") {
    OcppWorld w;
    auto cp = w.charger();
    cp->handle("RemoteStartTransaction", R"({"status":"Accepted"})");
    cp->handle("RemoteStopTransaction", R"({"status":"Accepted"})");
    const auto rider = w.rider("13000000031");
    REQUIRE_MESSAGE(eventually([&] { return w.st.get("/api/v1/sockets/oc1-1", rider).str("state") == "free"; }, 15s),
                    w.st.get("/api/v1/sockets/oc1-1", rider) << "\n"
                                                             << w.logs());

    auto started = w.st.post("/api/v1/sessions", R"({"socket":"oc1-1","mode":"energy"})", rider);
    REQUIRE_MESSAGE(started.status == 202, started);
    const auto sid = started.str("session.id");
    const auto remote = cp->wait_call("RemoteStartTransaction", 10s);
    REQUIRE_MESSAGE(remote, w.logs());
    CHECK(at(*remote, "connectorId") == "1");
    const auto tag = at(*remote, "idTag");
    CHECK(tag.rfind("APP", 0) == 0);

    w.status(*cp, 1, "Preparing");
    const auto [tx, accepted] = w.start(*cp, 1, tag, 100'000);
    CHECK(accepted == "Accepted");
    w.status(*cp, 1, "Charging");
    REQUIRE_MESSAGE(w.reaches(sid, "charging"), w.session(sid) << "\n" << w.logs());
    CHECK(w.session(sid).str("kind") == "ev");

    w.meter(*cp, 1, tx, 101'000);
    w.meter(*cp, 1, tx, 102'000);
    CHECK(eventually([&] { return w.st.get("/api/v1/sessions/" + sid, rider).i64("energy_wh") == 2'000; }, 10s));
    CHECK(eventually([&] { return w.st.get("/api/v1/sessions/" + sid, rider).i64("cost_fen") == 360; }, 10s));

    REQUIRE(w.st.post("/api/v1/sessions/" + sid + "/stop", "{}", rider).status == 202);
    const auto remote_stop = cp->wait_call("RemoteStopTransaction", 10s);
    REQUIRE_MESSAGE(remote_stop, w.logs());
    CHECK(at(*remote_stop, "transactionId") == std::to_string(tx));
    w.stop(*cp, tx, 102'000, "Remote"); // it stopped at once: nothing after the last report
    w.status(*cp, 1, "Finishing");
    w.status(*cp, 1, "Available");

    REQUIRE_MESSAGE(w.reaches(sid, "completed", 30s), w.session(sid) << "\n" << w.logs());
    const auto done = w.st.get("/api/v1/sessions/" + sid, rider);
    CHECK(done.i64("energy_wh") == 2'000);
    CHECK(done.i64("cost_fen") == 360); // 2 kWh × (1.00 + 0.80) yuan
    CHECK(done.i64("electricity_fen") == 200);
    CHECK(done.i64("service_fen") == 160);
    CHECK(w.st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 50'000 - 360);
    CHECK(w.charges_for(sid) == 1);
    auto d = w.st.db();
    CHECK(ledger::audit(d).empty());
    CHECK_FALSE(cp->wait_event("strict_violation", 0ms));
}

TEST_CASE("ocpp: cards at the charger — Authorize accepted, invalid and blocked; a card session started locally, "
          "stopped by auto-stop when the car is full, billed to the card's account") {
    OcppWorld w;
    const auto rider = w.rider("13000000032");
    REQUIRE(w.st.money("/api/v1/admin/cards", R"({"card_no":"IC000101","phone":"13000000032"})", w.admin).ok());
    w.rider("13000000035");
    REQUIRE(w.st.money("/api/v1/admin/cards", R"({"card_no":"IC000102","phone":"13000000035"})", w.admin).ok());
    REQUIRE(w.st.post("/api/v1/admin/cards/IC000102/report-lost", "{}", w.admin).ok());
    auto cp = w.charger();
    cp->handle("RemoteStopTransaction", R"({"status":"Accepted"})");

    w.status(*cp, 2, "Preparing");
    auto a = cp->call("Authorize", R"({"idTag":"IC000101"})");
    REQUIRE(a.ok);
    CHECK(at(a.result_json, "idTagInfo.status") == "Accepted");
    a = cp->call("Authorize", R"({"idTag":"NOSUCHCARD"})");
    CHECK(at(a.result_json, "idTagInfo.status") == "Invalid");
    a = cp->call("Authorize", R"({"idTag":"IC000102"})");
    CHECK(at(a.result_json, "idTagInfo.status") == "Blocked");

    const auto [tx, accepted] = w.start(*cp, 2, "IC000101", 5'000);
    CHECK(accepted == "Accepted");
    w.status(*cp, 2, "Charging");
    const auto sid = w.sid_on(2);
    REQUIRE(!sid.empty());
    REQUIRE_MESSAGE(w.reaches(sid, "charging"), w.session(sid) << "\n" << w.logs());
    CHECK(w.session(sid).str("method") == "card");

    // The car is full: autostopd stops it, the gateway tells the charger.
    w.meter(*cp, 2, tx, 6'000, 100);
    const auto remote_stop = cp->wait_call("RemoteStopTransaction", 15s);
    REQUIRE_MESSAGE(remote_stop, w.session(sid) << "\n" << w.logs() << tail(slurp(w.st.dir() + "/autostopd.log")));
    w.stop(*cp, tx, 6'000, "Remote", R"(,"idTag":"IC000101")");
    REQUIRE_MESSAGE(w.reaches(sid, "completed", 30s), w.session(sid) << "\n" << w.logs());
    const auto done = w.session(sid);
    CHECK(done.str("stop_reason") == "full");
    CHECK(done.i64("cost_fen") == 180);
    CHECK(w.st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 50'000 - 180);
    CHECK_FALSE(cp->wait_event("strict_violation", 0ms));
}

TEST_CASE("ocpp: a stop queued while the charger was offline, delivered after it reconnects, settles once") {
    OcppWorld w;
    w.rider("13000000033");
    REQUIRE(w.st.money("/api/v1/admin/cards", R"({"card_no":"IC000201","phone":"13000000033"})", w.admin).ok());
    auto cp = w.charger("cp-first");
    w.status(*cp, 1, "Preparing");
    const auto [tx, accepted] = w.start(*cp, 1, "IC000201", 20'000);
    REQUIRE(accepted == "Accepted");
    w.status(*cp, 1, "Charging");
    const auto sid = w.sid_on(1);
    REQUIRE(w.reaches(sid, "charging"));
    w.meter(*cp, 1, tx, 21'000);

    // The connection drops without a word; the platform marks the session suspended.
    cp->close(/*force=*/true);
    REQUIRE_MESSAGE(w.reaches(sid, "suspended", 20s), w.session(sid) << "\n" << w.logs());

    // Back online, the charger delivers the stop it kept, with the meter values of the outage.
    auto again = std::make_unique<OcppPeer>(w.st.dir() + "/cp-again.log");
    REQUIRE(again->connect(w.plain()).ok);
    w.boot(*again);
    const auto data = fmt::format(R"(,"transactionData":[{{"timestamp":"{}","sampledValue":[{{"value":"22000"}}]}}])",
                                  now_text(1000ms));
    w.stop(*again, tx, 23'000, "PowerLoss", data);
    REQUIRE_MESSAGE(w.reaches(sid, "completed", 30s), w.session(sid) << "\n" << w.logs());
    CHECK(w.session(sid).i64("cost_fen") == 540); // 3 kWh
    // The same stop again (its conf was lost): nothing more is charged.
    w.stop(*again, tx, 23'000, "PowerLoss", data);
    std::this_thread::sleep_for(2s); // give a wrong second settlement its chance to appear
    CHECK(w.charges_for(sid) == 1);
    auto d = w.st.db();
    CHECK(ledger::audit(d).empty());
}

TEST_CASE("ocpp: the gateway restarts mid-session; the charger reconnects and the transaction ends on the right "
          "session") {
    OcppWorld w;
    w.rider("13000000034");
    REQUIRE(w.st.money("/api/v1/admin/cards", R"({"card_no":"IC000301","phone":"13000000034"})", w.admin).ok());
    auto cp = w.charger("cp-before");
    w.status(*cp, 1, "Preparing");
    const auto [tx, accepted] = w.start(*cp, 1, "IC000301", 1'000);
    REQUIRE(accepted == "Accepted");
    w.status(*cp, 1, "Charging");
    const auto sid = w.sid_on(1);
    REQUIRE(w.reaches(sid, "charging"));
    w.meter(*cp, 1, tx, 2'000);

    w.gateway->stop();
    CHECK(cp->wait_event("close", 10s));
    w.start_gateway();

    auto after = std::make_unique<OcppPeer>(w.st.dir() + "/cp-after.log");
    REQUIRE_MESSAGE(after->connect(w.plain()).ok, w.logs());
    w.boot(*after);
    w.status(*after, 1, "Charging");
    w.meter(*after, 1, tx, 3'000);
    w.stop(*after, tx, 4'000, "Local");
    REQUIRE_MESSAGE(w.reaches(sid, "completed", 30s), w.session(sid) << "\n" << w.logs());
    CHECK(w.session(sid).i64("cost_fen") == 540);
    CHECK(w.charges_for(sid) == 1);
    CHECK_FALSE(after->wait_event("strict_violation", 0ms));
}

TEST_CASE("ocpp: the desired configuration becomes ChangeConfiguration and is reported applied; an operator's "
          "reset, unlock and availability reach the charger as OCPP calls and come back with its answers") {
    OcppWorld w;
    OcppPeer cp(w.st.dir() + "/cp.log");
    cp.handle("ChangeConfiguration", R"({"status":"Accepted"})");
    cp.handle("Reset", R"({"status":"Accepted"})");
    cp.handle("UnlockConnector", R"({"status":"Unlocked"})");
    cp.handle("ChangeAvailability", R"({"status":"Accepted"})");
    REQUIRE(cp.connect(w.plain()).ok);
    w.boot(cp);

    // Registration published the charger's first desired configuration (version 1).
    const auto first = cp.wait_call("ChangeConfiguration", 10s);
    REQUIRE_MESSAGE(first, w.logs());
    CHECK(at(*first, "key") == "MeterValueSampleInterval");
    CHECK(at(*first, "value") == "30");
    const auto second = cp.wait_call("ChangeConfiguration", 10s);
    REQUIRE(second);
    CHECK(at(*second, "key") == "HeartbeatInterval");
    REQUIRE_MESSAGE(
        eventually([&] { return w.st.get("/api/v1/admin/devices/oc1/config", w.admin).boolean("in_sync"); }, 10s),
        w.st.get("/api/v1/admin/devices/oc1/config", w.admin));
    CHECK(w.st.get("/api/v1/admin/devices/oc1/config", w.admin).str("reported.status") == "applied");

    // A changed configuration goes out again.
    REQUIRE(w.st.put("/api/v1/admin/devices/oc1/config", R"({"tele_period_s":15})", w.admin).ok());
    const auto changed = cp.wait_call("ChangeConfiguration", 10s);
    REQUIRE(changed);
    CHECK(at(*changed, "value") == "15");

    auto cmd = w.st.post("/api/v1/admin/devices/oc1/commands/reset", R"({"data":{"type":"soft"}})", w.admin);
    CHECK_MESSAGE(cmd.status == 200, cmd);
    CHECK(cmd.str("status") == "ok");
    const auto reset = cp.wait_call("Reset", 1s);
    REQUIRE(reset);
    CHECK(at(*reset, "type") == "Soft");

    cmd = w.st.post("/api/v1/admin/devices/oc1/commands/unlock", R"({"data":{"n":2}})", w.admin);
    CHECK(cmd.str("status") == "ok");
    const auto unlock = cp.wait_call("UnlockConnector", 1s);
    REQUIRE(unlock);
    CHECK(at(*unlock, "connectorId") == "2");

    cmd = w.st.post("/api/v1/admin/devices/oc1/commands/set_availability", R"({"data":{"n":1,"operative":false}})",
                    w.admin);
    CHECK(cmd.str("status") == "ok");
    const auto avail = cp.wait_call("ChangeAvailability", 1s);
    REQUIRE(avail);
    CHECK(at(*avail, "type") == "Inoperative");

    // A charger that refuses: the operator sees the refusal.
    cp.handle("Reset", R"({"status":"Rejected"})", true);
    cmd = w.st.post("/api/v1/admin/devices/oc1/commands/reset", R"({"data":{"type":"hard"}})", w.admin);
    CHECK_MESSAGE(cmd.status >= 400, cmd);
    // No OCPP 1.6 equivalent: unsupported, and nothing is sent.
    cmd =
        w.st.post("/api/v1/admin/devices/oc1/commands/set_tariff", R"({"data":{"elec_e4":1,"service_e4":1}})", w.admin);
    CHECK(cmd.code() == "unsupported");
    CHECK_FALSE(cp.wait_event("strict_violation", 0ms));
}

TEST_CASE("ocpp: a retired charger is refused at the handshake with its own key (CONTRACT G \"Lifecycle\")") {
    OcppWorld w(false);
    OcppPeer cp(w.st.dir() + "/cp.log");
    auto before = cp.connect(w.plain("oc1", w.password));
    REQUIRE_MESSAGE(before.ok, before.error_kind << " " << before.error_message << "\n" << w.logs());
    cp.close();
    auto retired = w.st.post("/api/v1/admin/devices/oc1/retire", "{}", w.admin);
    REQUIRE_MESSAGE(retired.status == 200, retired);
    OcppPeer again(w.st.dir() + "/cp-again.log");
    auto after = again.connect(w.plain("oc1", w.password));
    CHECK_FALSE(after.ok);
    CHECK(after.http_status == 401);
}
