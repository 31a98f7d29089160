#include "web-api/provider_settings.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <sstream>

namespace pilehub::api {
namespace {

constexpr const char* kNotifyWechat = "${pilehub-api.public_url}/api/v1/pay/notify/wechat";
constexpr const char* kNotifyAlipay = "${pilehub-api.public_url}/api/v1/pay/notify/alipay";

/// Throws naming every key of `group` that is empty.
void require(const std::string& group, const std::vector<std::pair<std::string, std::string>>& keys) {
    std::vector<std::string> missing;
    for (const auto& [k, v] : keys)
        if (v.empty())
            missing.push_back("pilehub-api." + k);
    if (!missing.empty())
        throw ConfigError(fmt::format("config: {} is on but incomplete; set {}", group, fmt::join(missing, ", ")));
}

void require_absolute_url(const std::string& key, const std::string& url) {
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
        throw ConfigError(fmt::format("config: pilehub-api.{} must be an absolute http(s) URL, not `{}` (set "
                                      "pilehub-api.public_url to the address providers reach the API at)",
                                      key, url));
}

} // namespace

void add_provider_keys(ConfigSchema& s) {
    s.add_string("pilehub-api.public_url", "",
                 "The API's public base URL as providers reach it (https://pay.example.com); notify URLs derive "
                 "from it.");
    s.add_string("pilehub-api.wechat.appid", "",
                 "WeChat mini-program AppID (on: WeChat login, and WeChat Pay's appid).");
    s.add_string("pilehub-api.wechat.secret_file", "${data_dir}/secrets/wechat-secret",
                 "File holding the mini-program's AppSecret.");
    s.add_string("pilehub-api.wechat.base_url", "https://api.weixin.qq.com", "WeChat API base URL.");
    s.add_string("pilehub-api.wechatpay.mchid", "", "WeChat Pay merchant id (on: the `wechat` payment channel).");
    s.add_string("pilehub-api.wechatpay.merchant_serial", "", "Serial number of the merchant API certificate.");
    s.add_string("pilehub-api.wechatpay.merchant_key_file", "${data_dir}/secrets/wechatpay-merchant-key.pem",
                 "The merchant API private key (PEM).");
    s.add_string("pilehub-api.wechatpay.apiv3_key_file", "${data_dir}/secrets/wechatpay-apiv3.key",
                 "The 32-byte APIv3 key (decrypts notifications).");
    s.add_string("pilehub-api.wechatpay.platform_public_key_file", "${data_dir}/secrets/wechatpay-platform-public.pem",
                 "WeChat Pay's public key (PEM; verifies responses and notifications).");
    s.add_string("pilehub-api.wechatpay.platform_serial", "",
                 "The platform key's id or certificate serial (the Wechatpay-Serial header).");
    s.add_string("pilehub-api.wechatpay.base_url", "https://api.mch.weixin.qq.com", "WeChat Pay API base URL.");
    s.add_string("pilehub-api.wechatpay.notify_url", kNotifyWechat, "Where WeChat Pay sends notifications.");
    s.add_string("pilehub-api.alipay.app_id", "", "Alipay app id (on: Alipay login and the `alipay` payment channel).");
    s.add_string("pilehub-api.alipay.seller_id", "",
                 "Our Alipay merchant (seller) id; when set, notifications for another seller are refused.");
    s.add_string("pilehub-api.alipay.app_private_key_file", "${data_dir}/secrets/alipay-app-private.pem",
                 "The app's RSA2 private key (PEM).");
    s.add_string("pilehub-api.alipay.alipay_public_key_file", "${data_dir}/secrets/alipay-public.pem",
                 "Alipay's RSA2 public key (PEM).");
    s.add_string("pilehub-api.alipay.aes_key_file", "${data_dir}/secrets/alipay-aes.key",
                 "The app's AES content key (base64, decrypts the rider's phone number).");
    s.add_string("pilehub-api.alipay.gateway_url", "https://openapi.alipay.com/gateway.do", "Alipay gateway URL.");
    s.add_string("pilehub-api.alipay.notify_url", kNotifyAlipay, "Where Alipay sends notifications.");
    s.add_string("pilehub-api.sms.provider", "", "The SMS provider for login codes outside development mode: aliyun.");
    s.add_string("pilehub-api.sms.access_key_id", "", "Aliyun AccessKey id.");
    s.add_string("pilehub-api.sms.access_key_secret_file", "${data_dir}/secrets/aliyun-sms-secret",
                 "File holding the AccessKey secret.");
    s.add_string("pilehub-api.sms.sign_name", "", "The approved SMS signature (签名).");
    s.add_string("pilehub-api.sms.template_code", "", "The approved template with a ${code} parameter.");
    s.add_string("pilehub-api.sms.endpoint", "https://dysmsapi.aliyuncs.com/", "Aliyun SMS endpoint.");
    s.add_string("pilehub-api.sms.region_id", "cn-hangzhou", "Aliyun region id.");
    s.add_int("pilehub-api.reconcile.interval_s", 15, 1, 3600, "How often pending orders and refunds are reconciled.");
    s.add_int("pilehub-api.reconcile.query_after_s", 60, 1, 86400,
              "A pending order without a notification is queried at its provider after this long.");
    s.add_int("pilehub-api.reconcile.expire_after_s", 900, 1, 7 * 86400,
              "An order still unpaid after this long is closed at its provider and expires.");
    s.add_int("pilehub-api.reconcile.refund_query_after_s", 60, 1, 86400,
              "A refund part without a final answer is asked about (or re-sent) after this long.");
    s.add_int("pilehub-api.outbound.connect_timeout_ms", 5000, 100, 60000, "Connect time-out for provider calls.");
    s.add_int("pilehub-api.outbound.read_timeout_ms", 10000, 100, 120000, "Read time-out for provider calls.");
}

ProviderSettings ProviderSettings::from(const Config& cfg) {
    ProviderSettings p;
    auto str = [&](const char* k) { return cfg.get_string(std::string("pilehub-api.") + k); };
    p.wechat = {str("wechat.appid"), str("wechat.secret_file"), str("wechat.base_url")};
    p.wechatpay = {str("wechatpay.mchid"),
                   str("wechatpay.merchant_serial"),
                   str("wechatpay.merchant_key_file"),
                   str("wechatpay.apiv3_key_file"),
                   str("wechatpay.platform_public_key_file"),
                   str("wechatpay.platform_serial"),
                   str("wechatpay.base_url"),
                   str("wechatpay.notify_url")};
    p.alipay = {str("alipay.app_id"),
                str("alipay.seller_id"),
                str("alipay.app_private_key_file"),
                str("alipay.alipay_public_key_file"),
                str("alipay.aes_key_file"),
                str("alipay.gateway_url"),
                str("alipay.notify_url")};
    p.sms = {str("sms.provider"),  str("sms.access_key_id"), str("sms.access_key_secret_file"),
             str("sms.sign_name"), str("sms.template_code"), str("sms.endpoint"),
             str("sms.region_id")};
    p.reconcile.interval_s = cfg.get_int32("pilehub-api.reconcile.interval_s");
    p.reconcile.query_after_s = cfg.get_int32("pilehub-api.reconcile.query_after_s");
    p.reconcile.expire_after_s = cfg.get_int32("pilehub-api.reconcile.expire_after_s");
    p.reconcile.refund_query_after_s = cfg.get_int32("pilehub-api.reconcile.refund_query_after_s");
    p.connect_timeout_ms = cfg.get_int32("pilehub-api.outbound.connect_timeout_ms");
    p.read_timeout_ms = cfg.get_int32("pilehub-api.outbound.read_timeout_ms");

    if (p.wechat.enabled())
        require("WeChat login (pilehub-api.wechat.appid)",
                {{"wechat.secret_file", p.wechat.secret_file}, {"wechat.base_url", p.wechat.base_url}});
    if (p.wechatpay.enabled()) {
        require("WeChat Pay (pilehub-api.wechatpay.mchid)",
                {{"wechat.appid", p.wechat.appid},
                 {"wechatpay.merchant_serial", p.wechatpay.merchant_serial},
                 {"wechatpay.merchant_key_file", p.wechatpay.merchant_key_file},
                 {"wechatpay.apiv3_key_file", p.wechatpay.apiv3_key_file},
                 {"wechatpay.platform_public_key_file", p.wechatpay.platform_public_key_file},
                 {"wechatpay.platform_serial", p.wechatpay.platform_serial},
                 {"wechatpay.base_url", p.wechatpay.base_url}});
        require_absolute_url("wechatpay.notify_url", p.wechatpay.notify_url);
    }
    if (p.alipay.enabled()) {
        require("Alipay (pilehub-api.alipay.app_id)",
                {{"alipay.app_private_key_file", p.alipay.app_private_key_file},
                 {"alipay.alipay_public_key_file", p.alipay.alipay_public_key_file},
                 {"alipay.gateway_url", p.alipay.gateway_url}});
        require_absolute_url("alipay.notify_url", p.alipay.notify_url);
    }
    if (p.sms.enabled()) {
        if (p.sms.provider != "aliyun")
            throw ConfigError(
                fmt::format("config: pilehub-api.sms.provider must be aliyun (or empty), not `{}`", p.sms.provider));
        require("Aliyun SMS (pilehub-api.sms.provider)", {{"sms.access_key_id", p.sms.access_key_id},
                                                          {"sms.access_key_secret_file", p.sms.access_key_secret_file},
                                                          {"sms.sign_name", p.sms.sign_name},
                                                          {"sms.template_code", p.sms.template_code},
                                                          {"sms.endpoint", p.sms.endpoint}});
    }
    return p;
}

std::vector<std::string> ProviderSettings::payment_channels() const {
    std::vector<std::string> out;
    if (wechatpay.enabled())
        out.push_back("wechat");
    if (alipay.enabled())
        out.push_back("alipay");
    return out;
}

std::string read_key_file(const std::string& key, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ConfigError(fmt::format("config: {}: cannot read `{}`", key, path));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t'))
        text.pop_back();
    if (text.empty())
        throw ConfigError(fmt::format("config: {}: `{}` is empty", key, path));
    return text;
}

} // namespace pilehub::api
