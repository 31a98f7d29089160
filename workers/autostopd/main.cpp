// autostopd: wiring only. The rules are in autostopd_rules, the glue in autostopd_worker.
#include "common/daemon.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "workers/autostopd/autostopd_worker.hpp"

#include <stdexcept>

namespace {

using namespace pilehub;

class Service final : public daemon::Service {
public:
    explicit Service(const Config &cfg)
        : db_(cfg.get_string("db.path"), daemon::db_options(cfg)), mqtt_(mqtt::make_client(daemon::mqtt_options(cfg))),
          worker_(*mqtt_, router_, db_, SystemClock::instance(), options(cfg)) {
        router_.attach(*mqtt_);
    }
    void start() {
        worker_.start();
        mqtt_->start();
        if (!mqtt_->wait_ready(std::chrono::seconds(15)))
            throw std::runtime_error("the broker did not accept our connection and subscriptions in 15 s");
        mqtt_->publish(daemon::status_message("autostopd", true));
    }
    void stop() override {
        // Disconnect first, so nothing arrives that the worker would not handle, then drain it.
        mqtt_->stop(daemon::status_message("autostopd", false, "shutdown"));
        worker_.stop();
    }

private:
    static autostopd::Options options(const Config &cfg) {
        autostopd::Options o;
        o.tick = std::chrono::milliseconds(cfg.get_int("autostopd.tick_ms"));
        o.rpc_timeout = std::chrono::milliseconds(cfg.get_int("autostopd.rpc_timeout_ms"));
        o.rpc_threads = cfg.get_int32("autostopd.rpc_threads");
        o.retry_ms = cfg.get_int("autostopd.retry_s") * 1000;
        o.forget_ms = cfg.get_int("autostopd.forget_s") * 1000;
        o.unsafe_fault_bits = static_cast<std::uint32_t>(cfg.get_int("autostopd.unsafe_fault_bits"));
        return o;
    }
    db::Database db_;
    mqtt::Router router_;
    std::unique_ptr<mqtt::Client> mqtt_;
    autostopd::Worker worker_;
};

} // namespace

int main(int argc, char **argv) {
    daemon::Spec spec;
    spec.name = "autostopd";
    spec.add_keys = [](ConfigSchema &s) {
        s.add_int("autostopd.tick_ms", 200, 10, 10'000,
                  "How often the time-based rules (full wait, quotas) are checked.");
        s.add_int("autostopd.rpc_timeout_ms", 3'000, 100, 60'000, "How long a stop request waits for sessiond.");
        s.add_int("autostopd.rpc_threads", 2, 1, 64, "Stop requests in flight at once.");
        s.add_int("autostopd.retry_s", 10, 1, 3'600,
                  "A stop request that timed out or failed is repeated after this, if its rule still applies.");
        s.add_int("autostopd.forget_s", 3'600, 60, 7 * 86'400,
                  "A session without any report for this long is forgotten.");
        s.add_int("autostopd.unsafe_fault_bits", 0x34F, 0, 0xFFFFFFFF,
                  "Fault bits (CONTRACT A.5 table) that stop a socket: default no_ground, relay_welded, over_current, "
                  "over_voltage, estop, over_temp, leakage (0x34F = 847).");
    };
    spec.start = [](daemon::Context &ctx) -> std::unique_ptr<daemon::Service> {
        daemon::migrate_core(ctx.config);
        auto svc = std::make_unique<Service>(ctx.config);
        svc->start();
        ctx.ready();
        return svc;
    };
    return daemon::run(argc, argv, spec);
}
