// otad: wiring only. The rules are in otad_rules, the glue in otad_worker.
#include "common/daemon.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/ota.hpp"
#include "common/worker_loop.hpp"
#include "workers/otad/otad_worker.hpp"

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
        mqtt_->publish(daemon::status_message("otad", true));
    }
    void stop() override {
        // Disconnect first, so nothing arrives that the worker would not handle, then drain it.
        mqtt_->stop(daemon::status_message("otad", false, "shutdown"));
        worker_.stop();
    }

private:
    static otad::Options options(const Config& cfg) {
        otad::Options o;
        o.download_base_url = cfg.get_string("otad.download_base_url");
        o.token_key = ota::token_key(cfg.get_string("data_dir"));
        o.command_exp_s = cfg.get_int("otad.command_exp_s");
        o.offline_skip_s = cfg.get_int("otad.offline_skip_s");
        o.tick = std::chrono::milliseconds(cfg.get_int("otad.tick_ms"));
        o.spool = worker::Spool(worker::spool_path(cfg.get_string("data_dir"), "otad"));
        return o;
    }
    db::Database db_;
    mqtt::Router router_;
    std::unique_ptr<mqtt::Client> mqtt_;
    otad::Worker worker_;
};

} // namespace

int main(int argc, char** argv) {
    daemon::Spec spec;
    spec.name = "otad";
    spec.add_keys = [](ConfigSchema& s) {
        s.add_string("otad.download_base_url", "http://127.0.0.1:18080",
                     "Where devices download firmware: the API's address as devices reach it (scheme, host, "
                     "port; cmd/ota carries <this>/api/v1/firmware/<id>?token=...).");
        s.add_int("otad.command_exp_s", 60, 1, 86'400, "The exp of a cmd/ota, from its send.");
        s.add_int("otad.offline_skip_s", 0, 0, 30 * 86'400,
                  "A pending device offline this long once its turn has come is skipped; 0: the rollout's "
                  "timeout_s.");
        s.add_int("otad.tick_ms", 1000, 10, 60'000, "How often rollouts are driven (time-outs, next batch).");
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
