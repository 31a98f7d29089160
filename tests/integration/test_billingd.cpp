// billingd as a real process against a real Mosquitto (tests/support/broker.hpp) and a real
// SQLite file: a session whose record is committed is settled exactly once when its state is
// published; replays change nothing; a session that ended while billingd was down is settled at
// start-up; a device report of a charging session (as recorderd publishes it) produces its running
// cost; the audit stays clean.
#include "tests/support/broker.hpp"
#include "tests/support/process.hpp"
#include "tests/unit/ledger/ledger_fixture.hpp"

#include "common/arrears.hpp"
#include "common/clock.hpp"
#include "common/ledger.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace pilehub;
using namespace pilehub::test;
using namespace std::chrono_literals;

namespace {

const std::string kBin = PILEHUB_BINARY_DIR;
constexpr EpochMs kMin = 60'000;

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// One billingd process on the fixture's databases and broker.
class Billingd {
public:
    Billingd(const MoneyDb& m, const Broker& b) : m_(m), log_(m.dir.file("billingd.log")) {
        const auto secrets = m.dir.file("secrets");
        std::filesystem::create_directories(secrets);
        pass_ = m.dir.file("secrets/svc.billingd.pass");
        std::ofstream(pass_) << b.password("svc.billingd") << "\n";
        port_ = b.port();
    }
    ~Billingd() {
        if (p_.pid() && p_.running())
            p_.stop();
    }

    void start() {
        ready_file_ = m_.dir.file("run/billingd.ready");
        std::filesystem::remove(ready_file_);
        SpawnOptions o;
        o.output = log_;
        p_ = Process::spawn({kBin + "/workers/billingd/billingd",
                             "--set",
                             "data_dir=" + m_.dir.path().string(),
                             "--set",
                             "db.path=" + m_.core_path(),
                             "--set",
                             "db.telemetry_path=" + m_.telemetry_path(),
                             "--set",
                             "run_dir=" + m_.dir.file("run"),
                             "--set",
                             fmt::format("mqtt.port={}", port_),
                             "--set",
                             "mqtt.password_file=" + pass_,
                             "--set",
                             "billingd.scan_period_s=3600",
                             "--set",
                             "billingd.live_refresh_s=1",
                             "--set",
                             "billingd.cost_min_interval_ms=0",
                             "--set",
                             "log.level=debug"},
                            o);
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (!std::filesystem::exists(ready_file_)) {
            REQUIRE_MESSAGE(p_.running(), "billingd exited:\n" << log());
            REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "billingd not ready:\n" << log());
            std::this_thread::sleep_for(20ms);
        }
    }
    /// An abrupt death: no clean disconnect, nothing flushed.
    void kill() { p_.kill(); }
    int stop() { return p_.stop(); }
    std::string log() const { return slurp(log_); }

private:
    const MoneyDb& m_;
    std::string log_;
    std::string pass_;
    std::string ready_file_;
    int port_ = 0;
    Process p_;
};

/// What a settlement may change: balances, rows, the session's state and cost.
struct Snapshot {
    std::int64_t balance, bonus, ledger_rows, events, settlements;
    std::string state;
    std::optional<std::int64_t> cost;
    bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(MoneyDb& m, std::int64_t account, const std::string& sid) {
    return {m.balance(account),
            m.bonus(account),
            m.ledger_rows(),
            m.count("SELECT count(*) FROM session_events"),
            m.count("SELECT count(*) FROM settlements"),
            m.session_state(sid),
            m.session_cost(sid)};
}

/// A session as sessiond leaves it once the pile's record is committed: the worked example of
/// BILLING.md §2 (18 min at 180 W after the first minute → 9 fen).
void ended_session(MoneyDb& m, const std::string& sid, std::int64_t account, int n, std::int64_t tariff_id) {
    const EpochMs start = SystemClock::instance().now_ms() - 20 * kMin;
    m.session({.id = sid,
               .account_id = account,
               .n = n,
               .mode = "power",
               .tariff_id = tariff_id,
               .state = "stopping",
               .started_at = start,
               .duration_s = 18 * 60,
               .energy_wh = 54,
               .max_power_w = 400});
    m.sample(sid, start + 10'000, 400, 1);
    m.sample(sid, start + 2 * kMin, 180, 6);
    m.sample(sid, start + 17 * kMin, 160, 51);
}

/// sessiond's transition as the pile's record is committed (svc::SessionTransition, record true).
std::string state_message(const std::string& sid) {
    return svc::encode(svc::SessionTransition{.sid = sid,
                                              .state = svc::SessionState::Stopping,
                                              .prev = svc::SessionState::Stopping,
                                              .reason = "record:full",
                                              .actor = "pile",
                                              .ts = SystemClock::instance().now_ms(),
                                              .record = true,
                                              .device_id = "P1",
                                              .n = 1,
                                              .account_id = 1,
                                              .method = svc::SessionMethod::App,
                                              .max_fen = std::nullopt,
                                              .settlement = std::nullopt});
}

std::size_t count_on(const Inbox& inbox, const std::string& topic, std::string_view needle) {
    std::size_t n = 0;
    for (const auto& m : inbox.messages())
        if (m.topic == topic && m.payload.find(needle) != std::string::npos)
            ++n;
    return n;
}

test::RunResult audit(const MoneyDb& m) {
    return test::run({kBin + "/workers/pilehubctl/pilehubctl", "--set", "data_dir=" + m.dir.path().string(), "--set",
                      "db.path=" + m.core_path(), "audit"},
                     60s);
}

} // namespace

TEST_CASE("billingd process: settles once on the session's state, ignores replays, catches up after a crash") {
    Broker broker({{"pile-1", ""}});
    MoneyDb m("billingd-process");
    const auto tariff_id = m.tariff(kPowerTariff);
    const auto a = m.account(1, 1000, 0);
    const auto b = m.account(2, 1000, 0);
    const auto c = m.account(3, 1000, 0);

    Inbox watched;
    auto monitor = connect_client(broker.client_options("svc.monitor"),
                                  {topics::any_session_state(), topics::any_session_cost()}, &watched);
    auto sessiond = connect_client(broker.client_options("svc.sessiond"));

    Billingd billingd(m, broker);
    billingd.start();
    std::this_thread::sleep_for(1500ms); // past billingd's start-up scan: from here on only messages trigger

    // 1. sessiond commits the record, then publishes the transition: billingd settles it.
    ended_session(m, "s1", a, 1, tariff_id);
    sessiond->publish({topics::session_state("s1"), state_message("s1"), 1, false});
    const auto done = watched.wait_for(topics::session_state("s1"), "\"state\":\"completed\"", 10s);
    REQUIRE_MESSAGE(done, billingd.log());
    CHECK(done->payload.find("\"cost_fen\":9") != std::string::npos);
    CHECK(done->payload.find("\"actor\":\"billingd\"") != std::string::npos);
    CHECK(m.session_state("s1") == "completed");
    CHECK(m.session_cost("s1") == 9);
    CHECK(m.balance(a) == 991);
    CHECK(m.count("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:s1'") == 1);

    // 2. The same message replayed changes nothing. A second session's message, sent after the
    //    replays, proves they were all handled (one worker thread handles messages in order).
    const auto before = snapshot(m, a, "s1");
    for (int i = 0; i < 3; ++i)
        sessiond->publish({topics::session_state("s1"), state_message("s1"), 1, false});
    ended_session(m, "s2", b, 2, tariff_id);
    sessiond->publish({topics::session_state("s2"), state_message("s2"), 1, false});
    REQUIRE_MESSAGE(watched.wait_for(topics::session_state("s2"), "\"state\":\"completed\"", 10s), billingd.log());
    auto after = snapshot(m, a, "s1");
    CHECK(after.balance == before.balance);
    CHECK(after.state == before.state);
    CHECK(after.cost == before.cost);
    CHECK(after.ledger_rows == before.ledger_rows + 1); // s2's settlement only
    CHECK(after.settlements == before.settlements + 1);
    CHECK(count_on(watched, topics::session_state("s1"), "\"state\":\"completed\"") == 1);
    CHECK(m.balance(b) == 991);

    // 3. billingd dies abruptly; a session ends meanwhile (its state message is lost with it);
    //    the restarted billingd settles it from the database at start-up.
    billingd.kill();
    ended_session(m, "s3", c, 3, tariff_id);
    CHECK(m.session_state("s3") == "stopping");
    billingd.start(); // ready only after the start-up scan
    CHECK(m.session_state("s3") == "completed");
    CHECK(m.session_cost("s3") == 9);
    CHECK(m.balance(c) == 991);
    CHECK(m.count("SELECT count(*) FROM ledger WHERE idempotency_key LIKE 'settle:%'") == 3);
    CHECK(watched.wait_for(topics::session_state("s3"), "\"state\":\"completed\"", 10s));

    // 4. A charging session's telemetry (recorderd's device report of it) gives autostopd its running cost.
    const EpochMs now = SystemClock::instance().now_ms();
    m.session({.id = "live1",
               .account_id = a,
               .n = 4,
               .mode = "time",
               .minutes = 60,
               .tariff_id = tariff_id,
               .state = "charging",
               .started_at = now - 30 * kMin,
               .record_msg_id = std::nullopt});
    auto recorderd = connect_client(broker.client_options("svc.recorderd"));
    svc::DeviceReport report;
    report.device_id = "pile-1";
    report.device_ts = now;
    report.received_at = now;
    report.total_power_w = 120;
    report.sockets = {{4, "live1", 120, 75}};
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::optional<mqtt::Message> cost;
    while (!cost && std::chrono::steady_clock::now() < deadline) {
        recorderd->publish({topics::device_report("pile-1"), svc::encode(report), 0, false});
        cost = watched.wait_for(topics::session_cost("live1"), "\"cost_fen\":50", 500ms);
    }
    REQUIRE_MESSAGE(cost, billingd.log());
    CHECK(cost->payload.find("\"available_fen\":991") != std::string::npos);
    CHECK(cost->payload.find("\"balance_low\":false") != std::string::npos);

    CHECK(billingd.stop() == 0);
    const auto r = audit(m);
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(r.output.find("audit: OK") != std::string::npos);
}

TEST_CASE("billingd process: a session costing more than the wallet holds leaves arrears, a recharge pays them, and "
          "pilehubctl audit proves priced = debited + arrears (and fails loudly when it does not hold)") {
    Broker broker({{"pile-1", ""}});
    MoneyDb m("billingd-arrears");
    const auto tariff_id = m.tariff(kPowerTariff);
    const auto a = m.account(1, 5, 0); // the session will cost 9

    Inbox watched;
    auto monitor = connect_client(broker.client_options("svc.monitor"), {topics::any_session_state()}, &watched);
    auto sessiond = connect_client(broker.client_options("svc.sessiond"));
    Billingd billingd(m, broker);
    billingd.start();

    ended_session(m, "s1", a, 1, tariff_id);
    sessiond->publish({topics::session_state("s1"), state_message("s1"), 1, false});
    REQUIRE_MESSAGE(watched.wait_for(topics::session_state("s1"), "\"state\":\"completed\"", 10s), billingd.log());
    CHECK(m.session_cost("s1") == 5);
    CHECK(m.balance(a) == 0);
    CHECK(m.ledger->wallet(a)->arrears_fen == Fen(4));
    CHECK(m.ledger->check_start(a, Fen(0)) == ledger::StartCheck::Arrears);
    CHECK(billingd.stop() == 0);
    auto r = audit(m);
    CHECK_MESSAGE(r.exit_code == 0, r.output);

    // A recharge as the API and payments post it: the credit, then the arrears it pays, in one transaction.
    {
        db::Transaction tx(*m.core);
        ledger::Credit c;
        c.account_id = a;
        c.real_fen = Fen(100);
        c.meta.idempotency_key = "pay:test:1";
        c.meta.operator_name = "test";
        const auto p = m.ledger->credit(tx, c);
        REQUIRE(p.outcome == ledger::Outcome::Applied);
        REQUIRE(arrears::collect(tx, *m.core, *m.ledger, a, p.entry->id));
        tx.commit();
    }
    CHECK(m.balance(a) == 96);
    CHECK(m.ledger->wallet(a)->arrears_fen == Fen(0));
    CHECK(m.ledger->check_start(a, Fen(0)) == ledger::StartCheck::Ok);
    r = audit(m);
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(r.output.find("audit: OK") != std::string::npos);

    // Debt forgotten by hand: the audit names the account and fails.
    m.core->exec(fmt::format("UPDATE accounts SET arrears_fen = 3 WHERE id = {}", a));
    r = audit(m);
    CHECK(r.exit_code != 0);
    CHECK_MESSAGE(r.output.find(fmt::format("account {}: arrears_fen 3 != shortfalls 4 - arrears paid 4", a)) !=
                      std::string::npos,
                  r.output);
}
