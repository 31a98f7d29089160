// alertd: wiring only. The rules are in alertd_rules, the glue in alertd_worker, the webhook in webhook.
#include "common/daemon.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/worker_loop.hpp"
#include "workers/alertd/alertd_worker.hpp"
#include "workers/alertd/webhook.hpp"

#include <stdexcept>

namespace {

using namespace pilehub;

class Service final : public daemon::Service {
public:
    explicit Service(const Config& cfg)
        : db_(cfg.get_string("db.path"), daemon::db_options(cfg)),
          outbox_db_(cfg.get_string("db.path"), daemon::db_options(cfg)),
          mqtt_(mqtt::make_client(daemon::mqtt_options(cfg))),
          sender_(outbox_db_, http_, SystemClock::instance(), webhook_options(cfg)),
          worker_(*mqtt_, router_, db_, SystemClock::instance(), options(cfg, sender_)) {
        router_.attach(*mqtt_);
    }
    void start() {
        sender_.start();
        worker_.start();
        mqtt_->start();
        if (!mqtt_->wait_ready(std::chrono::seconds(15)))
            throw std::runtime_error("the broker did not accept our connection and subscriptions in 15 s");
        mqtt_->publish(daemon::status_message("alertd", true));
    }
    void stop() override {
        mqtt_->stop(daemon::status_message("alertd", false, "shutdown"));
        worker_.stop();
        sender_.stop();
    }

private:
    static alertd::Options options(const Config& cfg, alertd::webhook::Sender& sender) {
        alertd::Options o;
        o.rules.offline_after_ms = cfg.get_int("alert.offline_after_s") * 1000;
        o.rules.silent_after_ms = cfg.get_int("alert.silent_after_s") * 1000;
        o.rules.temp_clear_margin_c = static_cast<double>(cfg.get_int("alert.temp_clear_margin_c"));
        o.stuck_session_ms = cfg.get_int("alert.stuck_session_s") * 1000;
        o.tick = std::chrono::milliseconds(cfg.get_int("alertd.tick_ms"));
        o.scan = std::chrono::milliseconds(cfg.get_int("alertd.scan_s") * 1000);
        o.deliver = !cfg.get_string("alert.webhook_url").empty();
        o.on_queued = [&sender] { sender.wake(); };
        o.spool = worker::Spool(worker::spool_path(cfg.get_string("data_dir"), "alertd"));
        return o;
    }
    static alertd::webhook::Options webhook_options(const Config& cfg) {
        alertd::webhook::Options o;
        o.url = cfg.get_string("alert.webhook_url");
        if (!o.url.empty())
            o.secret = read_secret_file(cfg.get_string("alert.webhook_secret_file"));
        o.retry_first = std::chrono::milliseconds(cfg.get_int("alert.webhook_retry_first_ms"));
        o.retry_longest = std::chrono::milliseconds(cfg.get_int("alert.webhook_retry_max_s") * 1000);
        return o;
    }
    db::Database db_;
    db::Database outbox_db_; ///< the webhook sender's own connection (its own thread)
    alertd::webhook::HttplibTransport http_;
    mqtt::Router router_;
    std::unique_ptr<mqtt::Client> mqtt_;
    alertd::webhook::Sender sender_;
    alertd::Worker worker_;
};

} // namespace

int main(int argc, char** argv) {
    daemon::Spec spec;
    spec.name = "alertd";
    spec.add_keys = [](ConfigSchema& s) {
        s.add_int("alert.offline_after_s", 300, 1, 86'400,
                  "A device offline by its presence (its Will, a shutdown) this long raises an `offline` alert "
                  "(CONTRACT G).");
        s.add_int("alert.silent_after_s", 900, 1, 86'400,
                  "A device (not a camera) that sends nothing at all this long raises an `offline` alert too "
                  "(3 idle telemetry periods of 300 s, CONTRACT A.4).");
        s.add_int("alert.stuck_session_s", 600, 10, 86'400,
                  "A session starting, stopping or suspended, or charging without a report, this long raises a "
                  "`stuck_session` alert.");
        s.add_int("alert.temp_clear_margin_c", 5, 0, 50,
                  "An `over_temp` alert clears once the temperature is this far below the device's temp_warn_c.");
        s.add_string(
            "alert.webhook_url", "",
            "Where each opened alert is POSTed (JSON, signed); empty: no webhook. https, or http to loopback.");
        s.add_string("alert.webhook_secret_file", "${data_dir}/secrets/alert-webhook.secret",
                     "The webhook's shared secret: X-PileHub-Signature is t=<unix>,v1=HMAC-SHA256(secret, "
                     "\"<unix>.<body>\") in hex. Read when alert.webhook_url is set.");
        s.add_int("alert.webhook_retry_first_ms", 1'000, 10, 3'600'000,
                  "The wait after a failed delivery, doubled after each further failure.");
        s.add_int("alert.webhook_retry_max_s", 3'600, 1, 86'400, "The longest wait between two delivery attempts.");
        s.add_int("alertd.tick_ms", 500, 10, 60'000, "How often the offline check runs.");
        s.add_int("alertd.scan_s", 30, 1, 3'600, "How often sessions and payment orders are scanned.");
    };
    spec.validate = [](const Config& cfg) {
        // A webhook without its secret would send unsigned alerts: refused at start (exit 2).
        if (!cfg.get_string("alert.webhook_url").empty() &&
            read_secret_file(cfg.get_string("alert.webhook_secret_file")).empty())
            throw ConfigError("alert.webhook_secret_file: the webhook's secret is empty");
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
