// sessiond: the charging-session state machine, the only process that commands a socket.
// Wiring only: the rules are in sessiond_rules, the SQL in sessiond_store, the glue in sessiond_worker.
#include "common/daemon.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/worker_loop.hpp"
#include "workers/sessiond/sessiond_worker.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>

namespace {

using namespace pilehub;

void add_keys(ConfigSchema& s) {
    s.add_int("sessiond.command_timeout_ms", 10000, 100, 600000,
              "How long a pile has to answer start_port/stop_port: the command's exp is this far ahead.");
    s.add_int("sessiond.reply_grace_ms", 2000, 0, 60000,
              "After a command's exp, how long a reply already in flight is still waited for.");
    s.add_int("sessiond.card_start_timeout_ms", 30000, 1000, 600000,
              "How long an accepted card has for the pile to report the session started.");
    s.add_string("sessiond.card_mode", "power",
                 "Mode of card sessions when the tariff offers it: time, power or energy.");
    s.add_int("sessiond.tick_ms", 100, 10, 5000, "How often time-outs are checked.");
    s.add_int("sessiond.stop_resend_ms", 5000, 200, 600000,
              "A stop the pile has not confirmed this long after it was sent is sent again (same rid, fresh exp), "
              "until the pile confirms it or a record settles the session; a pile back online gets it at once.");
    s.add_int("sessiond.suspend_timeout_s", 43200, 1, 30 * 86400,
              "A suspended session with no news for this long (since its suspension or its last report) is settled "
              "on its last report with stop reason power_loss, and an incident is recorded.");
    s.add_int("sessiond.idle_record_wait_s", 120, 1, 86400,
              "A stopping or suspended session whose pile shows the socket idle is settled on its last report when "
              "its record has not come within this long, and an incident is recorded.");
    s.add_int("sessiond.processed_keep_days", 7, 1, 3650,
              "Handled device message ids (processed_messages, consumer sessiond) are forgotten after this many days.");
    s.add_int("sessiond.record_tolerance_s", 60, 0, 86400,
              "How far a session record's duration may exceed platform time (and its energy rated power over that "
              "time) before it is clamped to what the platform saw and an incident is recorded.");
    s.add_int("sessiond.device_time_scale", 1, 1, 10000,
              "How many times faster than platform time a device's durations may run: 1 in service; a simulator's "
              "--speed in tests.");
    s.add_int("sessiond.report_flush_ms", 1000, 0, 60000,
              "Live figures from device reports (energy, power, last report) are written to the session rows at most "
              "this often, merged per session; any other message and every time-out write them first (0: each "
              "report at once).");
}

class Service final : public daemon::Service {
public:
    explicit Service(daemon::Context& ctx) {
        const auto& cfg = ctx.config;
        sessiond::Options opts;
        opts.command_timeout_ms = cfg.get_int("sessiond.command_timeout_ms");
        opts.reply_grace_ms = cfg.get_int("sessiond.reply_grace_ms");
        opts.card_start_timeout_ms = cfg.get_int("sessiond.card_start_timeout_ms");
        opts.stop_resend_ms = cfg.get_int("sessiond.stop_resend_ms");
        opts.suspend_timeout_s = cfg.get_int("sessiond.suspend_timeout_s");
        opts.idle_record_wait_s = cfg.get_int("sessiond.idle_record_wait_s");
        opts.processed_keep_days = cfg.get_int("sessiond.processed_keep_days");
        opts.record_tolerance_s = cfg.get_int("sessiond.record_tolerance_s");
        opts.device_time_scale = cfg.get_int("sessiond.device_time_scale");
        opts.report_flush_ms = cfg.get_int("sessiond.report_flush_ms");
        const auto mode = billing::parse_mode(cfg.get_string("sessiond.card_mode"));
        if (!mode)
            throw ConfigError("config: sessiond.card_mode must be time, power or energy");
        opts.card_mode = *mode;

        // a record is acknowledged to the pile only once it is on disk
        db_ = std::make_unique<db::Database>(cfg.get_string("db.path"), daemon::durable_db_options(cfg));
        db::migrate(*db_, db::core_migrations());

        mqtt_ = mqtt::make_client(daemon::mqtt_options(cfg));
        worker_ = std::make_unique<sessiond::Worker>(*db_, *mqtt_, SystemClock::instance(), opts);
        worker_->attach();
        // Messages are handled inside Paho's callback, under the worker's lock (docs/architecture.md):
        // the loop only runs the time-outs, and the failure rule around each message, whose
        // acknowledgement follows the callback's return.
        worker::Loop::Options lo;
        lo.name = "sessiond";
        lo.tick = std::chrono::milliseconds(cfg.get_int("sessiond.tick_ms"));
        loop_ = std::make_unique<worker::Loop>(
            SystemClock::instance(), lo, [](const mqtt::Message&) {}, [this] { worker_->tick(); });
        mqtt_->on_message([this](const mqtt::Message& m) {
            loop_->run_inline(m, [this](const mqtt::Message& x) { worker_->on_message(x); });
        });
        worker_->resume();
        mqtt_->start();
        if (!mqtt_->wait_ready(std::chrono::seconds(30)))
            throw std::runtime_error("the broker did not accept our connection and subscriptions within 30 s");
        loop_->start();
        ctx.ready();
    }

    void stop() override {
        loop_->stop();
        mqtt_->stop(daemon::status_message("sessiond", false, "shutdown"));
        worker_->flush(); // the live figures of the last report_flush_ms
    }

private:
    std::unique_ptr<db::Database> db_;
    std::unique_ptr<mqtt::Client> mqtt_;
    std::unique_ptr<sessiond::Worker> worker_;
    std::unique_ptr<worker::Loop> loop_; ///< the time-out tick and the failure rule of every message
};

} // namespace

int main(int argc, char** argv) {
    return daemon::run(argc, argv,
                       daemon::Spec{"sessiond", add_keys, [](daemon::Context& ctx) -> std::unique_ptr<daemon::Service> {
                                        return std::make_unique<Service>(ctx);
                                    }});
}
