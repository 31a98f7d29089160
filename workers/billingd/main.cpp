// billingd: settles ended sessions into the wallet ledger exactly once and publishes the running
// cost of live ones. Wiring only; see README.md, billingd_rules (decisions), billingd_worker
// (glue), billingd_store (SQL).
#include "billingd_store.hpp"
#include "billingd_worker.hpp"

#include "common/daemon.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"

#include <chrono>
#include <filesystem>
#include <memory>

namespace {

using namespace pilehub;

void add_keys(ConfigSchema& s) {
    s.add_int("billingd.scan_period_s", 30, 1, 3600, "How often the database is scanned for sessions to settle.");
    s.add_int("billingd.settle_delay_ms", 2000, 0, 600000,
              "A session is settled this long after its record was committed (sessions.updated_at), or sooner "
              "once a telemetry sample at or after its stop time is stored: recorderd writes in batches "
              "(recorderd.batch_ms), and a bill is priced from the curve that stays stored.");
    s.add_int("billingd.cost_period_s", 15, 1, 3600,
              "Running cost of a live session is published at least this often (and after each report).");
    s.add_int("billingd.cost_min_interval_ms", 1000, 0, 60000,
              "Running cost of one session is published at most this often on telemetry bursts.");
    s.add_int("billingd.live_refresh_s", 5, 1, 3600, "How often the set of charging sessions is re-read.");
    s.add_int("billingd.queue_max", 100000, 100, 10000000, "Queued telemetry beyond this is dropped (and counted).");
    s.add_string("billingd.debit_order", "account",
                 "Which balance settlements draw on first: account (each account's debit_order), real_first, "
                 "bonus_first.");
}

class Billingd final : public daemon::Service {
public:
    explicit Billingd(daemon::Context& ctx) : name_(ctx.name()) {
        const auto& cfg = ctx.config;
        const auto core_path = cfg.get_string("db.path");
        std::filesystem::create_directories(std::filesystem::path(core_path).parent_path());
        const auto money = daemon::durable_db_options(cfg);
        core_ = std::make_unique<db::Database>(core_path, money);
        db::migrate(*core_, db::core_migrations());
        db::Database::Options tele;
        tele.busy_timeout_ms = money.busy_timeout_ms;
        telemetry_ = std::make_unique<db::Database>(cfg.get_string("db.telemetry_path"), tele);
        db::migrate(*telemetry_, db::telemetry_migrations());

        billing::Worker::Options o;
        o.scan_period_ms = cfg.get_int("billingd.scan_period_s") * 1000;
        o.settle_delay_ms = cfg.get_int("billingd.settle_delay_ms");
        o.live_refresh_ms = cfg.get_int("billingd.live_refresh_s") * 1000;
        o.queue_max = static_cast<std::size_t>(cfg.get_int("billingd.queue_max"));
        o.cost.period_ms = cfg.get_int("billingd.cost_period_s") * 1000;
        o.cost.min_interval_ms = cfg.get_int("billingd.cost_min_interval_ms");
        const auto order = cfg.get_string("billingd.debit_order");
        if (order != "account") {
            o.debit_order = ledger::parse_debit_order(order);
            if (!o.debit_order)
                throw ConfigError("config: billingd.debit_order must be account, real_first or bonus_first");
        }
        o.actor = name_;

        store_ = std::make_unique<billing::Store>(*core_, *telemetry_, SystemClock::instance(), name_);
        mqtt_ = mqtt::make_client(daemon::mqtt_options(cfg));
        worker_ = std::make_unique<billing::Worker>(*store_, *mqtt_, SystemClock::instance(), o);
        worker_->subscribe(router_);
        router_.attach(*mqtt_);
        mqtt_->on_connect([this] { mqtt_->publish(daemon::status_message(name_, true)); });
        mqtt_->start();

        // Catch up before anything else: sessions that ended while billingd was down.
        const int settled = worker_->settle_due();
        log::info("start-up scan settled {} session(s)", settled);
        worker_->refresh_live();
        worker_->start();
        if (!mqtt_->wait_ready(std::chrono::seconds(30)))
            log::warn("MQTT not ready after 30 s; settling from the database meanwhile, retrying in the background");
        ctx.ready();
    }

    void stop() override {
        worker_->stop();
        mqtt_->stop(daemon::status_message(name_, false, "shutdown"));
    }

private:
    std::string name_;
    std::unique_ptr<db::Database> core_;
    std::unique_ptr<db::Database> telemetry_;
    std::unique_ptr<billing::Store> store_;
    std::unique_ptr<mqtt::Client> mqtt_;
    mqtt::Router router_;
    std::unique_ptr<billing::Worker> worker_;
};

} // namespace

int main(int argc, char** argv) {
    return daemon::run(argc, argv, {"billingd", add_keys, [](daemon::Context& ctx) -> std::unique_ptr<daemon::Service> {
                                        return std::make_unique<Billingd>(ctx);
                                    }});
}
