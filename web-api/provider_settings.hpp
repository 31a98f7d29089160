#pragma once
#include "common/config.hpp"

#include <string>
#include <vector>

/// The providers of rider identity and money in production (CONTRACT F.4): WeChat mini-program
/// login, WeChat Pay API v3, Alipay, Aliyun SMS. A group is on when its identifying key is set
/// (`wechat.appid`, `wechatpay.mchid`, `alipay.app_id`, `sms.provider`); a group that is on must be
/// complete, or the API refuses to start naming the missing keys. Key files are read at start.
namespace pilehub::api {

struct WechatSettings {
    std::string appid;
    std::string secret_file;
    std::string base_url;
    bool enabled() const { return !appid.empty(); }
};

struct WechatPaySettings {
    std::string mchid;
    std::string merchant_serial;
    std::string merchant_key_file;
    std::string apiv3_key_file;
    std::string platform_public_key_file;
    std::string platform_serial;
    std::string base_url;
    std::string notify_url;
    bool enabled() const { return !mchid.empty(); }
};

struct AlipaySettings {
    std::string app_id;
    std::string seller_id;
    std::string app_private_key_file;
    std::string alipay_public_key_file;
    std::string aes_key_file;
    std::string gateway_url;
    std::string notify_url;
    bool enabled() const { return !app_id.empty(); }
};

struct AliyunSmsSettings {
    std::string provider; ///< empty or `aliyun`
    std::string access_key_id;
    std::string access_key_secret_file;
    std::string sign_name;
    std::string template_code;
    std::string endpoint;
    std::string region_id;
    bool enabled() const { return !provider.empty(); }
};

/// When pending orders and refund parts are asked about at their provider.
struct ReconcileSettings {
    int interval_s = 15;           ///< how often the reconciler runs
    int query_after_s = 60;        ///< a pending order without a notification is queried after this
    int expire_after_s = 900;      ///< and closed at the provider (then expired) after this
    int refund_query_after_s = 60; ///< a processing refund part is queried (or re-sent) after this
};

struct ProviderSettings {
    WechatSettings wechat;
    WechatPaySettings wechatpay;
    AlipaySettings alipay;
    AliyunSmsSettings sms;
    ReconcileSettings reconcile;
    int connect_timeout_ms = 5000;
    int read_timeout_ms = 10000;

    /// Reads the groups; throws ConfigError naming the missing keys of a group that is on.
    static ProviderSettings from(const Config& cfg);
    /// The payment channels that are configured: `wechat`, `alipay` (in that order).
    std::vector<std::string> payment_channels() const;
    /// Whether some rider can log in without development mode: Aliyun SMS, WeChat or Alipay.
    bool any_login() const { return sms.enabled() || wechat.enabled() || alipay.enabled(); }
};

/// Declares every `pilehub-api.{wechat,wechatpay,alipay,sms,reconcile,outbound}.*` key.
void add_provider_keys(ConfigSchema& schema);

/// Reads a key file (trailing white space removed); throws ConfigError naming `key` and the path.
std::string read_key_file(const std::string& key, const std::string& path);

} // namespace pilehub::api
