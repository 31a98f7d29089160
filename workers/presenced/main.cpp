// presenced: wiring only. The rules are in presenced_rules, the glue in presenced_worker.
#include "common/daemon.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/worker_loop.hpp"
#include "workers/presenced/presenced_worker.hpp"

#include <stdexcept>

namespace {

using namespace pilehub;

class Service final : public daemon::Service {
public:
    explicit Service(const Config& cfg)
        : db_(cfg.get_string("db.path"), daemon::db_options(cfg)), mqtt_(mqtt::make_client(daemon::mqtt_options(cfg))),
          worker_(*mqtt_, router_, db_, SystemClock::instance(), options(cfg)) {
        router_.attach(*mqtt_);
    }
    void start() {
        worker_.start();
        mqtt_->start();
        if (!mqtt_->wait_ready(std::chrono::seconds(15)))
            throw std::runtime_error("the broker did not accept our connection and subscriptions in 15 s");
        mqtt_->publish(daemon::status_message("presenced", true));
    }
    void stop() override {
        // Disconnect first, so nothing arrives that the worker would not handle, then drain it.
        mqtt_->stop(daemon::status_message("presenced", false, "shutdown"));
        worker_.stop();
    }

private:
    static presenced::Options options(const Config& cfg) {
        presenced::Options o;
        o.silence_periods = cfg.get_int32("presenced.silence_periods");
        o.tick = std::chrono::milliseconds(cfg.get_int("presenced.tick_ms"));
        o.flush = std::chrono::milliseconds(cfg.get_int("presenced.flush_s") * 1000);
        o.spool = worker::Spool(worker::spool_path(cfg.get_string("data_dir"), "presenced"));
        return o;
    }
    db::Database db_;
    mqtt::Router router_;
    std::unique_ptr<mqtt::Client> mqtt_;
    presenced::Worker worker_;
};

} // namespace

int main(int argc, char** argv) {
    daemon::Spec spec;
    spec.name = "presenced";
    spec.add_keys = [](ConfigSchema& s) {
        s.add_int("presenced.silence_periods", 3, 1, 100,
                  "Telemetry periods (tele_period_s while active, idle_tele_period_s otherwise) without any "
                  "message after which a pile is marked offline (`silent`).");
        s.add_int("presenced.tick_ms", 500, 10, 60'000, "How often silence is checked.");
        s.add_int("presenced.flush_s", 30, 1, 3'600, "How often device_presence.last_seen is written.");
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
