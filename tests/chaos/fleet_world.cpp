#include "tests/chaos/fleet_world.hpp"

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/json.hpp"
#include "common/ledger.hpp"
#include "common/registry.hpp"
#include "common/topics.hpp"
#include "tests/integration/sessions_world.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace pilehub::chaos {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::vector<test::Credential> pile_users(const std::vector<std::string>& piles) {
    std::vector<test::Credential> users;
    for (const auto& p : piles)
        users.push_back({p, ""});
    return users;
}

} // namespace

FleetWorld::FleetWorld(FleetOptions o) : opts_(std::move(o)) {
    for (int i = 1; i <= opts_.piles; ++i)
        piles_.push_back(fmt::format("C{:04}", i));
    broker_ = std::make_unique<test::Broker>(pile_users(piles_));
    if (opts_.proxy)
        proxy_ = std::make_unique<test::FaultProxy>(broker_->port());
    dir_ = test::make_temp_dir(fmt::format("pilehub-chaos-{}", opts_.name));
    seed();

    // The test is the API (rpc) and watches presence and the replies to session records.
    api_ = mqtt::make_client(broker_->client_options("svc.pilehub-api"));
    rpc_ = std::make_unique<rpc::Client>(*api_, router_);
    for (const auto& filter :
         {topics::any_device_presence(), topics::any_device::presence(), topics::req_reply("+", "+")})
        router_.add(*api_, filter, 1, inbox.handler());
    router_.attach(*api_);
    api_->start();
    REQUIRE(api_->wait_ready(10s));

    presenced.emplace("presenced", *broker_, dir_, [&] {
        std::vector<std::string> sets{"presenced.tick_ms=100"};
        sets.insert(sets.end(), opts_.presenced_sets.begin(), opts_.presenced_sets.end());
        return sets;
    }());
    presenced->start();
    if (opts_.sessions) {
        sessiond.emplace("sessiond", *broker_, dir_,
                         std::vector<std::string>{
                             "sessiond.command_timeout_ms=10000",
                             fmt::format("sessiond.device_time_scale={}", static_cast<std::int64_t>(opts_.speed))});
        recorderd.emplace("recorderd", *broker_, dir_, std::vector<std::string>{"recorderd.batch_ms=100"});
        billingd.emplace("billingd", *broker_, dir_, std::vector<std::string>{"billingd.scan_period_s=1"});
        for (auto* d : {&sessiond, &recorderd, &billingd})
            (*d)->start();
    }

    {
        std::string devices;
        for (const auto& p : piles_)
            devices += fmt::format(R"({}{{"id":"{}","kind":"ebike_pile","sockets":{},"password":"{}"}})",
                                   devices.empty() ? "" : ",", p, opts_.sockets, broker_->password(p));
        std::ofstream(dir_ + "/fleet.json") << R"({"devices":[)" << devices << "]}";
    }
    for (int g = 0; g < opts_.sims; ++g) {
        sims_.emplace_back();
        start_sim(g);
    }
}

FleetWorld::~FleetWorld() {
    for (auto& s : sims_)
        if (s.pid())
            s.stop();
    for (auto* d : {&billingd, &recorderd, &sessiond, &presenced})
        if (*d)
            (*d)->stop();
    if (api_)
        api_->stop();
    db_.reset();
    proxy_.reset();
    const char* keep = std::getenv("PILEHUB_KEEP_TEST_DIRS");
    if (!keep || std::string(keep) != "1") {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    } else {
        MESSAGE("test directory kept: " << dir_);
    }
}

void FleetWorld::seed() {
    db::Database d(core_db());
    db::migrate(d, db::core_migrations());
    const auto now = SystemClock::instance().now_ms();
    registry::Store reg(d);
    registry::Station st;
    st.operator_id = reg.ensure_operator("op", now);
    st.name = "Chaos Garden";
    const auto station = reg.add_station(st, now);
    for (const auto& p : piles_) {
        registry::Device dev;
        dev.id = p;
        dev.station_id = station;
        dev.ports = opts_.sockets;
        reg.add_device(dev, "$7$unused", now);
    }
    db::Statement t(d, "INSERT INTO tariffs (station_id, version, document, effective_from, created_at) "
                       "VALUES (?1, 1, ?2, 0, 0)");
    t.bind(1, station).bind(2, std::string(test::sessions::kTariff)).run();
    if (!opts_.sessions)
        return;
    ledger::Ledger l(d);
    for (std::size_t i = 0; i < piles_.size() * static_cast<std::size_t>(opts_.sockets); ++i) {
        const auto a =
            l.open_account({fmt::format("138{:08}", i), "", std::nullopt, ledger::DebitOrder::RealFirst}).account_id;
        ledger::Credit c;
        c.account_id = a;
        c.real_fen = Fen(1'000'000);
        c.meta.idempotency_key = fmt::format("seed:{}", i);
        REQUIRE(l.credit(c).ok());
        accounts_.push_back(a);
    }
}

std::int64_t FleetWorld::account(std::size_t pile, int n) const {
    return accounts_.at(pile * static_cast<std::size_t>(opts_.sockets) + static_cast<std::size_t>(n - 1));
}

std::vector<std::string> FleetWorld::sim_argv(int g) const {
    std::string only;
    for (std::size_t i = 0; i < piles_.size(); ++i)
        if (sim_of(i) == g)
            only += (only.empty() ? "" : ",") + piles_[i];
    std::vector<std::string> argv{std::string(PILEHUB_BINARY_DIR) + "/workers/pilehub-sim/pilehub-sim",
                                  "--fleet",
                                  dir_ + "/fleet.json",
                                  "--state-dir",
                                  fmt::format("{}/sim{}", dir_, g),
                                  "--port",
                                  std::to_string(proxy_ ? proxy_->port() : broker_->port()),
                                  "--speed",
                                  fmt::format("{}", opts_.speed),
                                  "--tele-period-s",
                                  std::to_string(opts_.tele_period_s),
                                  "--connect-rate",
                                  std::to_string(opts_.connect_rate),
                                  "--only",
                                  only};
    if (opts_.keepalive_s > 0) {
        argv.push_back("--keepalive-s");
        argv.push_back(std::to_string(opts_.keepalive_s));
    }
    return argv;
}

void FleetWorld::start_sim(int g) {
    test::SpawnOptions so;
    so.output = fmt::format("{}/sim{}.log", dir_, g);
    sims_.at(static_cast<std::size_t>(g)) = test::Process::spawn(sim_argv(g), so);
}

void FleetWorld::kill_sim(int g) {
    sims_.at(static_cast<std::size_t>(g)).kill();
}

void FleetWorld::stop_sim(int g) {
    sims_.at(static_cast<std::size_t>(g)).stop();
}

void FleetWorld::control(int g, const std::string& line) {
    const auto path = fmt::format("{}/sim{}/control", dir_, g);
    const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE_MESSAGE(fd >= 0, "cannot open " << path);
    const auto text = line + "\n";
    const auto n = ::write(fd, text.data(), text.size());
    ::close(fd);
    REQUIRE(n == static_cast<ssize_t>(text.size()));
}

std::int64_t FleetWorld::pending_records() {
    std::int64_t sum = 0;
    for (int g = 0; g < opts_.sims; ++g) {
        auto doc = json::parse(test::slurp(fmt::format("{}/sim{}/status.json", dir_, g)));
        if (!doc)
            return -1;
        std::string err;
        auto o = json::Object::root(*doc, &err);
        const auto n = o.opt_int("pending_records", 0).value_or(-1);
        if (n < 0)
            return -1;
        sum += n;
    }
    return sum;
}

rpc::Reply FleetWorld::call(const std::string& method, const std::string& data_json,
                            std::chrono::milliseconds timeout) {
    return rpc_->call("sessiond", method, data_json, timeout);
}

db::Database& FleetWorld::db() {
    if (!db_)
        db_ = std::make_unique<db::Database>(core_db());
    return *db_;
}

std::int64_t FleetWorld::number(const std::string& sql) {
    db::Statement q(db(), sql);
    if (!q.step() || q.is_null(0))
        return -1;
    return q.int64(0);
}

bool FleetWorld::eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (pred())
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return pred();
}

std::string FleetWorld::open_sessions() {
    std::string out;
    db::Statement q(db(), "SELECT id, device_id, n, state, coalesce(record_msg_id, '-'), coalesce(cmd_rid, '-'), "
                          "created_at FROM sessions WHERE state NOT IN ('completed', 'failed') ORDER BY created_at");
    while (q.step())
        out += fmt::format("{} {}-{} {} record={} cmd={} created={}\n", q.text(0), q.text(1), q.int64(2), q.text(3),
                           q.text(4), q.text(5), q.int64(6));
    return out;
}

std::string FleetWorld::logs(std::size_t lines) {
    std::string s;
    for (auto* d : {&presenced, &sessiond, &recorderd, &billingd})
        if (*d)
            s += "--- " + (*d)->name() + " ---\n" + test::tail((*d)->log(), lines);
    for (int g = 0; g < opts_.sims; ++g)
        s += fmt::format("--- sim{} ---\n", g) + test::tail(test::slurp(fmt::format("{}/sim{}.log", dir_, g)), lines);
    s += "--- broker ---\n" + test::tail(broker_->log(), lines);
    return s;
}

} // namespace pilehub::chaos
