// parkingd: wiring only. The rules are in parking_rules, the glue in parkingd_worker.
#include "common/daemon.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/worker_loop.hpp"
#include "workers/parkingd/parkingd_worker.hpp"

#include <stdexcept>

namespace {

using namespace pilehub;

class Service final : public daemon::Service {
public:
    explicit Service(const Config& cfg)
        : db_(cfg.get_string("db.path"), daemon::durable_db_options(cfg)), // fees are money
          mqtt_(mqtt::make_client(daemon::mqtt_options(cfg))),
          worker_(*mqtt_, router_, db_, SystemClock::instance(), options(cfg)) {
        router_.attach(*mqtt_);
    }
    void start() {
        worker_.start();
        mqtt_->start();
        if (!mqtt_->wait_ready(std::chrono::seconds(15)))
            throw std::runtime_error("the broker did not accept our connection and subscriptions in 15 s");
        mqtt_->publish(daemon::status_message("parkingd", true));
    }
    void stop() override {
        // Disconnect first, so nothing arrives that the worker would not handle, then drain it.
        mqtt_->stop(daemon::status_message("parkingd", false, "shutdown"));
        worker_.stop();
    }

private:
    static parkingd::Options options(const Config& cfg) {
        parkingd::Options o;
        o.tick = std::chrono::milliseconds(cfg.get_int("parkingd.tick_ms"));
        o.lock_exp_ms = cfg.get_int("parkingd.lock_exp_s") * 1000;
        o.lock_retry_ms = cfg.get_int("parkingd.lock_retry_s") * 1000;
        o.lock_max_attempts = cfg.get_int32("parkingd.lock_max_attempts");
        o.rpc_wait_ms = cfg.get_int("parkingd.rpc_wait_ms");
        o.config_refresh_ms = cfg.get_int("parkingd.config_refresh_s") * 1000;
        o.spool = worker::Spool(worker::spool_path(cfg.get_string("data_dir"), "parkingd"));
        o.retention = retention::policy_from(cfg);
        return o;
    }
    db::Database db_;
    mqtt::Router router_;
    std::unique_ptr<mqtt::Client> mqtt_;
    parkingd::Worker worker_;
};

} // namespace

int main(int argc, char** argv) {
    daemon::Spec spec;
    spec.name = "parkingd";
    spec.add_keys = [](ConfigSchema& s) {
        retention::add_keys(s);
        s.add_int("parkingd.tick_ms", 200, 10, 10'000,
                  "How often due lock rises, lock command re-sends and request time-outs are checked.");
        s.add_int("parkingd.lock_exp_s", 30, 1, 3'600, "The exp of a lock command, from each send.");
        s.add_int("parkingd.lock_retry_s", 10, 1, 3'600,
                  "An unanswered lock command is sent again (same rid, fresh exp) after this, while the camera is "
                  "online; an offline camera gets it when it returns.");
        s.add_int("parkingd.lock_max_attempts", 6, 1, 1'000,
                  "Sends to an online camera without an answer before the command fails (a lock fault and an alert).");
        s.add_int("parkingd.rpc_wait_ms", 6'000, 100, 120'000,
                  "How long an operator's lock or snapshot request waits for the camera (below the API's "
                  "pilehub-api.command_timeout_ms, so the operator hears parkingd's timeout, not the API's).");
        s.add_int("parkingd.config_refresh_s", 30, 1, 3'600,
                  "How often the spaces' settings (lock, gun, enabled) are read again.");
    };
    spec.start = [](daemon::Context& ctx) -> std::unique_ptr<daemon::Service> {
        daemon::migrate_core(ctx.config);
        auto svc = std::make_unique<Service>(ctx.config);
        svc->start();
        ctx.ready();
        return svc;
    };
    return daemon::run(argc, argv, spec);
}
