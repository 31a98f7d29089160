// pilehub-api: wiring only. Configuration, databases, the broker connection (rpc to the workers,
// the device cache, cfg/desired publishing), the first admin, then the HTTP server.
#include "common/daemon.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/rpc.hpp"
#include "web-api/app.hpp"
#include "web-api/auth.hpp"
#include "web-api/device_cache.hpp"
#include "web-api/login_alipay.hpp"
#include "web-api/login_wechat.hpp"
#include "web-api/outbound.hpp"
#include "web-api/pay_alipay.hpp"
#include "web-api/pay_wechat.hpp"
#include "web-api/reconciler.hpp"
#include "web-api/sms_aliyun.hpp"

#include <algorithm>
#include <cstdlib>

namespace {

using namespace pilehub;

class ApiService final : public daemon::Service {
public:
    explicit ApiService(daemon::Context& ctx) : name_(ctx.name()) {
        s_.settings = api::Settings::from(ctx.config);
        db::Database::Options core_opts;
        core_opts.sync = db::Sync::Full; // the API writes money (recharges, refunds, card fees)
        core_opts.busy_timeout_ms = ctx.config.get_int32("db.busy_timeout_ms");
        s_.core = std::make_unique<api::DbPool>(ctx.config.get_string("db.path"), core_opts);
        db::Database::Options tele_opts;
        tele_opts.busy_timeout_ms = core_opts.busy_timeout_ms;
        s_.telemetry = std::make_unique<api::DbPool>(ctx.config.get_string("db.telemetry_path"), tele_opts);
        api::prepare_database(s_);
        {
            const char* env = std::getenv("PILEHUB_ADMIN_PASSWORD");
            auto d = s_.core->get();
            api::auth::ensure_first_admin(*d, s_.settings.operator_name,
                                          env ? std::optional<std::string>(env) : std::nullopt,
                                          s_.settings.initial_password_file, s_.now());
        }
        start_providers();

        mqtt_ = mqtt::make_client(daemon::mqtt_options(ctx.config));
        rpc_ = std::make_unique<rpc::Client>(*mqtt_, router_);
        for (const auto& f : api::DeviceCache::filters())
            router_.add(*mqtt_, f, 1, [this](const mqtt::Message& m) { cache_.handle(m); });
        router_.attach(*mqtt_);
        mqtt_->on_connect([this] { mqtt_->publish(daemon::status_message(name_, true)); });
        sessions_ = std::make_unique<api::RpcSessionService>(*rpc_);
        s_.sessions = sessions_.get();
        s_.rpc = rpc_.get();
        s_.devices = &cache_;
        s_.publish = [this](const mqtt::Message& m) { return mqtt_->publish(m); };
        s_.broker_connected = [this] { return mqtt_->connected(); };
        mqtt_->start();

        reconciler_ = std::make_unique<api::Reconciler>(s_);
        if (!s_.providers.names().empty())
            reconciler_->start();
        server_ = std::make_unique<api::ApiServer>(s_);
        server_->bind(s_.settings.bind, s_.settings.http_port);
        server_->start();
        log::info("HTTP on {}:{} ({} routes)", s_.settings.bind, server_->port(), server_->router().routes().size());
        if (!mqtt_->wait_ready(std::chrono::seconds(15)))
            throw std::runtime_error("the broker did not accept the connection within 15 s");
        ctx.ready();
    }

    void stop() override {
        if (server_)
            server_->stop();
        if (reconciler_)
            reconciler_->stop();
        if (mqtt_)
            mqtt_->stop(daemon::status_message(name_, false, "shutdown"));
    }

private:
    /// The providers of rider identity and money (CONTRACT F.4): built from the settings, key files
    /// read; a bad key refuses the start naming it.
    void start_providers() {
        const auto& ps = s_.settings.providers;
        api::outbound::HttplibClient::Options ho;
        ho.connect_timeout_s = std::max(1, (ps.connect_timeout_ms + 999) / 1000);
        ho.read_timeout_s = std::max(1, (ps.read_timeout_ms + 999) / 1000);
        http_ = std::make_unique<api::outbound::HttplibClient>(ho);
        if (s_.settings.sms_provider == "dev")
            s_.sms = std::make_unique<api::DevSmsProvider>();
        else if (s_.settings.sms_provider == "aliyun")
            s_.sms = api::outbound::build_checked<api::AliyunSmsProvider>(ps, *http_, *s_.clock);
        if (ps.wechat.enabled())
            s_.logins["wechat"] = api::outbound::build_checked<api::WechatLogin>(ps, *http_, *s_.clock);
        if (ps.alipay.enabled())
            s_.logins["alipay"] = api::outbound::build_checked<api::AlipayLogin>(ps, *http_, *s_.clock);
        if (ps.wechatpay.enabled())
            s_.providers.add(std::shared_ptr<payments::Provider>(
                api::outbound::build_checked<api::WechatPayProvider>(ps, *http_, *s_.clock)));
        if (ps.alipay.enabled())
            s_.providers.add(std::shared_ptr<payments::Provider>(
                api::outbound::build_checked<api::AlipayProvider>(ps, *http_, *s_.clock)));
        if (s_.settings.dev_mode)
            s_.providers.add(std::make_shared<payments::SandboxProvider>(
                payments::load_or_create_secret(s_.settings.payment_secret_file), *s_.clock));
        if (s_.settings.payment_provider != "none")
            s_.payment_provider = s_.settings.payment_provider;
        std::string logins;
        for (const auto& [name, _] : s_.logins)
            logins += (logins.empty() ? "" : ", ") + name;
        std::string channels;
        for (const auto& name : s_.providers.names())
            channels += (channels.empty() ? "" : ", ") + name;
        log::info("development mode {}; sms provider {}; mini-program logins [{}]; payment channels [{}], default {}",
                  s_.settings.dev_mode ? "on" : "off", s_.settings.sms_provider, logins, channels,
                  s_.payment_provider.empty() ? "none" : s_.payment_provider);
    }

    std::string name_;
    api::Services s_;
    mqtt::Router router_;
    api::DeviceCache cache_;
    std::unique_ptr<mqtt::Client> mqtt_;
    std::unique_ptr<rpc::Client> rpc_;
    std::unique_ptr<api::RpcSessionService> sessions_;
    std::unique_ptr<api::outbound::HttplibClient> http_;
    std::unique_ptr<api::Reconciler> reconciler_;
    std::unique_ptr<api::ApiServer> server_;
};

} // namespace

int main(int argc, char** argv) {
    daemon::Spec spec;
    spec.name = "pilehub-api";
    spec.add_keys = [](ConfigSchema& s) { api::add_keys(s); };
    spec.validate = [](const Config& c) { (void)api::Settings::from(c); };
    spec.start = [](daemon::Context& ctx) -> std::unique_ptr<daemon::Service> {
        return std::make_unique<ApiService>(ctx);
    };
    return daemon::run(argc, argv, spec);
}
