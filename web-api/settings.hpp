#pragma once
#include "common/config.hpp"
#include "common/money.hpp"
#include "common/ocpp_endpoints.hpp"
#include "web-api/client_addr.hpp"
#include "web-api/provider_settings.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace pilehub::api {

/// Every `pilehub-api.*` key (and the broker file keys shared with pilehubctl, the `ocpp.*` keys
/// shared with the OCPP gateway), documented.
void add_keys(ConfigSchema& schema);

/// Staff money limits (REVIEW-reliability #8; docs/config.md "Staff money limits").
struct MoneyLimits {
    std::int64_t counter_recharge_max_fen = 200000; ///< one counter recharge's real money, at most
    std::int64_t refund_day_max_fen = 500000;       ///< one operator's refunds (balance and order) per day, at most
};

/// The API's typed configuration, read once at start.
struct Settings {
    std::string data_dir;
    std::string bind = "127.0.0.1";
    int http_port = 18080;
    int threads = 8;
    std::int64_t max_body_bytes = 1 << 20;
    std::int64_t firmware_max_bytes = 64 << 20; ///< largest firmware image accepted (POST /admin/firmware)
    int read_timeout_s = 10;
    int write_timeout_s = 10;
    bool dev_mode = false;
    std::string sms_provider = "dev";         ///< dev (logs the code, returns dev_code), aliyun or none
    std::string payment_provider = "sandbox"; ///< the default channel: wechat, alipay, sandbox or none
    ProviderSettings providers;               ///< WeChat, WeChat Pay, Alipay, Aliyun SMS (CONTRACT F.4)
    EpochMs rider_token_ttl_ms = 30LL * 86400 * 1000;
    EpochMs admin_token_ttl_ms = 12LL * 3600 * 1000;
    int sms_code_ttl_s = 300;
    int sms_max_tries = 5;
    int sms_min_interval_s = 60;
    int sms_max_per_hour = 5;
    int sms_max_per_ip_hour = 30;
    int login_max_failures = 5;
    int login_window_s = 900;
    int login_max_failures_per_ip = 30;
    int rpc_timeout_ms = 900;
    int command_timeout_ms = 8000;
    std::string timezone = "Asia/Shanghai";
    std::int32_t utc_offset_s = 8 * 3600;
    std::string qr_base_url;
    /// pilehub-api.web_root: the console's and H5 page's files; empty serves none.
    std::string web_root;
    std::string password_file;
    std::string pid_file;
    std::string initial_password_file;
    std::string payment_secret_file;
    int default_radius_m = 5000;
    EpochMs station_counts_ttl_ms = 1000; ///< how long a station's socket counts serve rider lists
    int max_radius_m = 50000;
    std::string operator_name = "default";
    ocpp_endpoints::Endpoints ocpp; ///< where registered OCPP chargers are told to connect
    /// Peers whose X-Forwarded-For is believed (pilehub-api.trusted_proxies; client_addr.hpp).
    TrustedProxies trusted_proxies;
    MoneyLimits limits;                             ///< pilehub-api.limits.*
    std::map<std::string, MoneyLimits> role_limits; ///< pilehub-api.limits.<built-in role>.* (0 = the general one)
    /// pilehub-api.packages.max_bonus_pct: a package's bonus, at most this % of its price.
    int package_max_bonus_pct = 50;
    /// pilehub-api.health.min_free_mb: /health fails below this much free space in the data directory.
    std::int64_t health_min_free_mb = 512;
    /// pilehub-api.health.write_timeout_ms: how long /health's write probe waits for a held lock.
    int health_write_timeout_ms = 1000;
    /// The limits for an operator of `role`: its own where set, else the general ones.
    MoneyLimits limits_for(const std::string& role) const;

    /// Reads and checks the settings. Throws ConfigError for a bad combination, e.g. the dev SMS
    /// provider or the sandbox payment provider outside development mode, development mode with
    /// a listen address that is not loopback, or production (dev_mode off) without any rider login
    /// provider or without any payment channel (the message names the keys to set).
    static Settings from(const Config& cfg);
};

/// Whether `host` is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.x.x) or `localhost`:
/// the only addresses development mode may listen on.
bool is_loopback_address(std::string_view host);

} // namespace pilehub::api
