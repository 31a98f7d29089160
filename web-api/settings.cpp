#include "web-api/settings.hpp"

#include "common/ledger.hpp"
#include "common/tariff.hpp"
#include "web-api/rbac.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netinet/in.h>

namespace pilehub::api {

void add_keys(ConfigSchema& s) {
    s.add_int("pilehub-api.http_port", 18080, 1, 65535, "HTTP port of the API.");
    s.add_string("pilehub-api.bind", "127.0.0.1",
                 "Address the HTTP listener binds to (loopback by default; put a TLS proxy in front).");
    s.add_int("pilehub-api.threads", 32, 1, 256, "HTTP worker threads (a keep-alive connection holds one while open).");
    s.add_int("pilehub-api.station_counts_ttl_ms", 1000, 0, 60000,
              "How long a station's free/total socket counts serve rider station lists (nearby); an operator's "
              "change forgets them at once; 0 counts on every request.");
    s.add_int("pilehub-api.max_body_bytes", 1 << 20, 1024, 64 << 20, "Largest request body accepted.");
    s.add_int("pilehub-api.firmware_max_bytes", 64 << 20, 1024, 1024 << 20,
              "Largest firmware image accepted by POST /admin/firmware (kept under <data_dir>/firmware/).");
    s.add_int("pilehub-api.read_timeout_s", 10, 1, 300, "Time-out reading a request.");
    s.add_int("pilehub-api.write_timeout_s", 10, 1, 300, "Time-out writing a response.");
    s.add_string(
        "pilehub-api.sms_provider", "auto",
        "auto (aliyun when pilehub-api.sms.provider is set, else dev in development mode, none otherwise), dev "
        "(logs codes; development only), aliyun or none.");
    s.add_string("pilehub-api.payment_provider", "auto",
                 "The default payment channel: auto (wechat, else alipay when configured, else sandbox in development "
                 "mode, else none), wechat, alipay, sandbox (development only) or none.");
    s.add_int("pilehub-api.rider_token_ttl_s", 30 * 86400, 60, 365 * 86400, "Lifetime of a rider's bearer token.");
    s.add_int("pilehub-api.admin_token_ttl_s", 12 * 3600, 60, 30 * 86400, "Lifetime of an operator's bearer token.");
    s.add_int("pilehub-api.sms_code_ttl_s", 300, 30, 3600, "Lifetime of an SMS login code.");
    s.add_int("pilehub-api.sms_max_tries", 5, 1, 20, "Wrong entries before an SMS code is spent.");
    s.add_int("pilehub-api.sms_min_interval_s", 60, 0, 3600, "Least time between two codes for one phone.");
    s.add_int("pilehub-api.sms_max_per_hour", 5, 1, 1000, "Codes per phone per hour.");
    s.add_int("pilehub-api.sms_max_per_ip_hour", 30, 1, 100000, "Codes per client address per hour.");
    s.add_int("pilehub-api.login_max_failures", 5, 1, 1000,
              "Failed operator logins per user name within the window before it is throttled.");
    s.add_int("pilehub-api.login_window_s", 900, 10, 86400, "Window for counting failed operator logins.");
    s.add_int("pilehub-api.login_max_failures_per_ip", 30, 1, 100000,
              "Failed operator logins per client address within the window.");
    s.add_int("pilehub-api.rpc_timeout_ms", 900, 50, 30000,
              "How long a start/stop request waits for sessiond (the rider is answered within 1 s).");
    s.add_int("pilehub-api.command_timeout_ms", 8000, 100, 60000,
              "How long a remote device command waits for its reply.");
    s.add_string("pilehub-api.timezone", "Asia/Shanghai",
                 "The operator's time zone: times in replies, daily statistics.");
    s.add_string("pilehub-api.web_root", PILEHUB_WEB_ROOT,
                 "Folder of the web UIs served at /console/ and /h5/ (console/, h5/, static/); empty serves none.");
    s.add_string("pilehub-api.qr_base_url", "",
                 "Prefix of the text in socket QR codes (empty: the bare socket code <device>-<n>).");
    s.add_string("pilehub-api.initial_password_file", "${data_dir}/initial-admin-password",
                 "Where the first admin's random password is written when PILEHUB_ADMIN_PASSWORD is unset.");
    s.add_string("pilehub-api.payment_secret_file", "${data_dir}/secrets/payments-sandbox.key",
                 "The sandbox payment provider's signing key (created, 0600, if missing).");
    s.add_string("pilehub-api.operator", "default", "The operator that stations created through the API belong to.");
    s.add_string("broker.password_file", "${data_dir}/broker/passwd",
                 "The Mosquitto password file rewritten when devices are registered.");
    s.add_string("broker.pid_file", "${run_dir}/mosquitto.pid", "The running broker's pid, for SIGHUP reloads.");
    s.add_string("pilehub-api.trusted_proxies", "",
                 "Comma-separated addresses or CIDR networks of reverse proxies (e.g. 127.0.0.1, ::1): a request "
                 "from one of them is the client at the right-most untrusted address of X-Forwarded-For (rate "
                 "limits, logs); empty: the TCP peer is always the client.");
    s.add_int("pilehub-api.limits.counter_recharge_max_fen", MoneyLimits{}.counter_recharge_max_fen, 1,
              ledger::kMaxAmountFen, "Most real money one counter recharge may credit, fen.");
    s.add_int("pilehub-api.limits.refund_day_max_fen", MoneyLimits{}.refund_day_max_fen, 0, ledger::kMaxAmountFen,
              "Most one operator may refund (balance and order refunds) per day in pilehub-api.timezone, fen.");
    for (const auto& role : rbac::builtin_roles()) {
        s.add_int(fmt::format("pilehub-api.limits.{}.counter_recharge_max_fen", role.name), 0, 0, ledger::kMaxAmountFen,
                  fmt::format("Counter recharge limit of the {} role, fen (0: the general limit).", role.name));
        s.add_int(fmt::format("pilehub-api.limits.{}.refund_day_max_fen", role.name), 0, 0, ledger::kMaxAmountFen,
                  fmt::format("Daily refund limit of the {} role, fen (0: the general limit).", role.name));
    }
    s.add_int("pilehub-api.health.min_free_mb", 512, 0, 1 << 30,
              "GET /health fails (503) when the data directory has less free space than this, in MiB.");
    s.add_int("pilehub-api.health.write_timeout_ms", 1000, 10, 30000,
              "How long GET /health's write probe of the core database waits for a lock before it fails.");
    s.add_int("pilehub-api.packages.max_bonus_pct", 50, 0, 1000,
              "A recharge package's bonus may be at most this percentage of its price (creating or updating one "
              "above it is refused).");
    ocpp_endpoints::add_keys(s);
    add_provider_keys(s);
}

MoneyLimits Settings::limits_for(const std::string& role) const {
    MoneyLimits out = limits;
    if (const auto it = role_limits.find(role); it != role_limits.end()) {
        if (it->second.counter_recharge_max_fen > 0)
            out.counter_recharge_max_fen = it->second.counter_recharge_max_fen;
        if (it->second.refund_day_max_fen > 0)
            out.refund_day_max_fen = it->second.refund_day_max_fen;
    }
    return out;
}

bool is_loopback_address(std::string_view host) {
    if (host == "localhost")
        return true;
    const std::string h(host);
    in_addr v4{};
    if (::inet_pton(AF_INET, h.c_str(), &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&v6))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
    }
    return false;
}

Settings Settings::from(const Config& cfg) {
    Settings s;
    s.data_dir = cfg.get_string("data_dir");
    s.bind = cfg.get_string("pilehub-api.bind");
    s.http_port = cfg.get_int32("pilehub-api.http_port");
    s.threads = cfg.get_int32("pilehub-api.threads");
    s.station_counts_ttl_ms = cfg.get_int("pilehub-api.station_counts_ttl_ms");
    s.max_body_bytes = cfg.get_int("pilehub-api.max_body_bytes");
    s.firmware_max_bytes = cfg.get_int("pilehub-api.firmware_max_bytes");
    s.read_timeout_s = cfg.get_int32("pilehub-api.read_timeout_s");
    s.write_timeout_s = cfg.get_int32("pilehub-api.write_timeout_s");
    s.dev_mode = cfg.get_bool("dev_mode");
    s.sms_provider = cfg.get_string("pilehub-api.sms_provider");
    s.payment_provider = cfg.get_string("pilehub-api.payment_provider");
    s.providers = ProviderSettings::from(cfg);
    const auto channels = s.providers.payment_channels();
    if (s.sms_provider == "auto")
        s.sms_provider = s.providers.sms.enabled() ? "aliyun" : s.dev_mode ? "dev" : "none";
    if (s.payment_provider == "auto")
        s.payment_provider = !channels.empty() ? channels.front() : s.dev_mode ? "sandbox" : "none";
    if (s.sms_provider != "dev" && s.sms_provider != "none" && s.sms_provider != "aliyun")
        throw ConfigError("config: pilehub-api.sms_provider must be auto, dev, aliyun or none");
    if (s.sms_provider == "aliyun" && !s.providers.sms.enabled())
        throw ConfigError("config: pilehub-api.sms_provider is aliyun but pilehub-api.sms.provider is not set");
    if (s.payment_provider != "sandbox" && s.payment_provider != "none" && s.payment_provider != "wechat" &&
        s.payment_provider != "alipay")
        throw ConfigError("config: pilehub-api.payment_provider must be auto, wechat, alipay, sandbox or none");
    if ((s.payment_provider == "wechat" && !s.providers.wechatpay.enabled()) ||
        (s.payment_provider == "alipay" && !s.providers.alipay.enabled()))
        throw ConfigError(fmt::format("config: pilehub-api.payment_provider is {} but that channel is not configured "
                                      "(pilehub-api.{})",
                                      s.payment_provider,
                                      s.payment_provider == "wechat" ? "wechatpay.mchid" : "alipay.app_id"));
    if (!s.dev_mode && s.sms_provider == "dev")
        throw ConfigError(
            "config: the dev SMS provider reveals login codes; it is refused outside development mode (dev_mode)");
    if (!s.dev_mode && s.payment_provider == "sandbox")
        throw ConfigError(
            "config: the sandbox payment provider credits wallets for free; it is refused outside development mode");
    if (!s.dev_mode) {
        const bool login = s.sms_provider == "aliyun" || s.providers.wechat.enabled() || s.providers.alipay.enabled();
        std::vector<std::string> missing;
        if (!login)
            missing.push_back("a rider login: pilehub-api.sms.provider = aliyun (with pilehub-api.sms.access_key_id, "
                              ".access_key_secret_file, .sign_name, .template_code), or pilehub-api.wechat.appid (with "
                              ".secret_file), or pilehub-api.alipay.app_id (with its key files)");
        if (channels.empty())
            missing.push_back("a payment channel: pilehub-api.wechatpay.mchid (with .merchant_serial, "
                              ".merchant_key_file, .apiv3_key_file, .platform_public_key_file, .platform_serial) or "
                              "pilehub-api.alipay.app_id (with .app_private_key_file, .alipay_public_key_file), and "
                              "pilehub-api.public_url for their notifications");
        if (!missing.empty())
            throw ConfigError(
                fmt::format("config: production (dev_mode = false) needs {}; development mode (dev_mode = "
                            "true, loopback only) uses the development SMS codes and the payment sandbox "
                            "instead",
                            fmt::join(missing, "; and ")));
    }
    if (s.dev_mode && !is_loopback_address(s.bind))
        throw ConfigError(fmt::format(
            "config: development mode (dev_mode) reveals SMS codes and credits wallets for free, so the API listens on "
            "loopback only; pilehub-api.bind is `{}` (use 127.0.0.1 or ::1, or turn dev_mode off)",
            s.bind));
    s.rider_token_ttl_ms = cfg.get_int("pilehub-api.rider_token_ttl_s") * 1000;
    s.admin_token_ttl_ms = cfg.get_int("pilehub-api.admin_token_ttl_s") * 1000;
    s.sms_code_ttl_s = cfg.get_int32("pilehub-api.sms_code_ttl_s");
    s.sms_max_tries = cfg.get_int32("pilehub-api.sms_max_tries");
    s.sms_min_interval_s = cfg.get_int32("pilehub-api.sms_min_interval_s");
    s.sms_max_per_hour = cfg.get_int32("pilehub-api.sms_max_per_hour");
    s.sms_max_per_ip_hour = cfg.get_int32("pilehub-api.sms_max_per_ip_hour");
    s.login_max_failures = cfg.get_int32("pilehub-api.login_max_failures");
    s.login_window_s = cfg.get_int32("pilehub-api.login_window_s");
    s.login_max_failures_per_ip = cfg.get_int32("pilehub-api.login_max_failures_per_ip");
    s.rpc_timeout_ms = cfg.get_int32("pilehub-api.rpc_timeout_ms");
    s.command_timeout_ms = cfg.get_int32("pilehub-api.command_timeout_ms");
    s.timezone = cfg.get_string("pilehub-api.timezone");
    const auto tz = billing::find_time_zone(s.timezone);
    if (!tz)
        throw ConfigError(fmt::format("config: pilehub-api.timezone `{}` is not a supported zone", s.timezone));
    s.utc_offset_s = tz->utc_offset_s;
    s.qr_base_url = cfg.get_string("pilehub-api.qr_base_url");
    s.web_root = cfg.get_string("pilehub-api.web_root");
    s.initial_password_file = cfg.get_string("pilehub-api.initial_password_file");
    s.operator_name = cfg.get_string("pilehub-api.operator");
    s.payment_secret_file = cfg.get_string("pilehub-api.payment_secret_file");
    s.password_file = cfg.get_string("broker.password_file");
    s.pid_file = cfg.get_string("broker.pid_file");
    s.ocpp = ocpp_endpoints::Endpoints::from(cfg);
    std::string bad_proxy;
    s.trusted_proxies = TrustedProxies::parse(cfg.get_string("pilehub-api.trusted_proxies"), &bad_proxy);
    if (!bad_proxy.empty())
        throw ConfigError("config: pilehub-api.trusted_proxies: " + bad_proxy);
    s.limits.counter_recharge_max_fen = cfg.get_int("pilehub-api.limits.counter_recharge_max_fen");
    s.limits.refund_day_max_fen = cfg.get_int("pilehub-api.limits.refund_day_max_fen");
    for (const auto& role : rbac::builtin_roles()) {
        MoneyLimits l;
        l.counter_recharge_max_fen =
            cfg.get_int(fmt::format("pilehub-api.limits.{}.counter_recharge_max_fen", role.name));
        l.refund_day_max_fen = cfg.get_int(fmt::format("pilehub-api.limits.{}.refund_day_max_fen", role.name));
        s.role_limits[std::string(role.name)] = l;
    }
    s.package_max_bonus_pct = cfg.get_int32("pilehub-api.packages.max_bonus_pct");
    s.health_min_free_mb = cfg.get_int("pilehub-api.health.min_free_mb");
    s.health_write_timeout_ms = cfg.get_int32("pilehub-api.health.write_timeout_ms");
    return s;
}

} // namespace pilehub::api
