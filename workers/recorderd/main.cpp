// recorderd: wiring only. The rules are in recorderd_rules, the glue in recorderd_worker.
#include "common/daemon.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/retention.hpp"
#include "common/topics.hpp"
#include "workers/recorderd/recorderd_worker.hpp"

#include <stdexcept>

namespace {

using namespace pilehub;

class Service final : public daemon::Service {
public:
    explicit Service(const Config& cfg)
        : mqtt_(mqtt::make_client(daemon::mqtt_options(cfg))),
          worker_(*mqtt_, router_, cfg.get_string("db.path"), cfg.get_string("db.telemetry_path"),
                  cfg.get_int32("db.busy_timeout_ms"), SystemClock::instance(), options(cfg)) {
        router_.attach(*mqtt_);
    }
    void start() {
        worker_.start();
        mqtt_->start();
        if (!mqtt_->wait_ready(std::chrono::seconds(15)))
            throw std::runtime_error("the broker did not accept our connection and subscriptions in 15 s");
        mqtt_->publish({topics::svc_status("recorderd"), worker_.status_json(), 1, true});
    }
    void stop() override {
        // Disconnect first, so nothing arrives that the worker would not handle, then drain it.
        mqtt_->stop(daemon::status_message("recorderd", false, "shutdown"));
        worker_.stop();
    }

private:
    static recorderd::Options options(const Config& cfg) {
        recorderd::Options o;
        o.batch_rows = static_cast<std::size_t>(cfg.get_int("recorderd.batch_rows"));
        o.batch_time = std::chrono::milliseconds(cfg.get_int("recorderd.batch_ms"));
        o.max_queue = static_cast<std::size_t>(cfg.get_int("recorderd.max_queue"));
        o.status_every = std::chrono::milliseconds(cfg.get_int("recorderd.status_ms"));
        o.retention = retention::policy_from(cfg);
        return o;
    }
    mqtt::Router router_;
    std::unique_ptr<mqtt::Client> mqtt_;
    recorderd::Worker worker_;
};

} // namespace

int main(int argc, char** argv) {
    daemon::Spec spec;
    spec.name = "recorderd";
    spec.add_keys = [](ConfigSchema& s) {
        s.add_int("recorderd.batch_rows", 1000, 1, 100'000, "Telemetry rows written per transaction (at most).");
        s.add_int("recorderd.batch_ms", 500, 10, 60'000,
                  "A batch is written at the latest this long after its first row.");
        s.add_int("recorderd.max_queue", 200'000, 1'000, 10'000'000,
                  "Telemetry messages queued for decoding; past this new ones are dropped and counted.");
        s.add_int("recorderd.status_ms", 5'000, 100, 600'000,
                  "How often the queue, lag and counters are published on the status topic and logged.");
        retention::add_keys(s);
    };
    spec.start = [](daemon::Context& ctx) -> std::unique_ptr<daemon::Service> {
        {
            db::Database core(ctx.config.get_string("db.path"));
            db::migrate(core, db::core_migrations());
            db::Database tele(ctx.config.get_string("db.telemetry_path"));
            db::migrate(tele, db::telemetry_migrations());
        }
        auto svc = std::make_unique<Service>(ctx.config);
        svc->start();
        ctx.ready();
        return svc;
    };
    return daemon::run(argc, argv, spec);
}
