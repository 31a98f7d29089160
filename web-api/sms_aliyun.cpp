#include "web-api/sms_aliyun.hpp"

#include "common/crypto.hpp"
#include "common/tariff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace pilehub::api {

AliyunSmsProvider::AliyunSmsProvider(AliyunSmsConfig config, outbound::Client& http, const Clock& clock)
    : config_(std::move(config)), http_(http), clock_(clock) {
    const std::pair<const char*, const std::string*> required[] = {
        {"pilehub-api.sms.access_key_id", &config_.access_key_id},
        {"pilehub-api.sms.access_key_secret_file", &config_.access_key_secret},
        {"pilehub-api.sms.sign_name", &config_.sign_name},
        {"pilehub-api.sms.template_code", &config_.template_code},
        {"pilehub-api.sms.region_id", &config_.region_id},
    };
    for (const auto& [key, value] : required)
        if (value->empty())
            throw std::invalid_argument(std::string(key) + ": required");
    if (!outbound::split_url(config_.endpoint))
        throw std::invalid_argument("pilehub-api.sms.endpoint: not an http(s) URL: " + config_.endpoint);
}

AliyunSmsConfig AliyunSmsProvider::config_from(const ProviderSettings& s) {
    AliyunSmsConfig c;
    c.access_key_id = s.sms.access_key_id;
    c.access_key_secret = read_key_file("pilehub-api.sms.access_key_secret_file", s.sms.access_key_secret_file);
    c.sign_name = s.sms.sign_name;
    c.template_code = s.sms.template_code;
    c.endpoint = s.sms.endpoint;
    if (!s.sms.region_id.empty())
        c.region_id = s.sms.region_id;
    return c;
}

std::unique_ptr<AliyunSmsProvider> AliyunSmsProvider::from(const ProviderSettings& s, outbound::Client& http,
                                                           const Clock& clock) {
    return outbound::build_checked<AliyunSmsProvider>(s, http, clock);
}

std::string AliyunSmsProvider::uuid4() {
    auto b = crypto::random_bytes(16);
    b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
    const auto h = crypto::hex(b);
    return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4), h.substr(16, 4),
                       h.substr(20));
}

AliyunSmsProvider::Params AliyunSmsProvider::params(std::string_view phone, std::string_view code,
                                                    std::string_view nonce, std::string_view timestamp) const {
    json::Writer w;
    w.begin_object().field("code", code).end_object();
    // Aliyun wants international numbers as digits after the country code, without `+`.
    if (!phone.empty() && phone.front() == '+')
        phone.remove_prefix(1);
    return {{"AccessKeyId", config_.access_key_id},
            {"Action", "SendSms"},
            {"Format", "JSON"},
            {"PhoneNumbers", std::string(phone)},
            {"RegionId", config_.region_id},
            {"SignName", config_.sign_name},
            {"SignatureMethod", "HMAC-SHA1"},
            {"SignatureNonce", std::string(nonce)},
            {"SignatureVersion", "1.0"},
            {"TemplateCode", config_.template_code},
            {"TemplateParam", w.str()},
            {"Timestamp", std::string(timestamp)},
            {"Version", "2017-05-25"}};
}

std::string AliyunSmsProvider::canonical_query(Params params) {
    std::sort(params.begin(), params.end());
    return outbound::form_encode(params);
}

std::string AliyunSmsProvider::signature(std::string_view secret, std::string_view method, const Params& params) {
    const auto to_sign =
        fmt::format("{}&{}&{}", method, crypto::percent_encode("/"), crypto::percent_encode(canonical_query(params)));
    return crypto::base64(crypto::hmac_sha1(std::string(secret) + "&", to_sign));
}

bool AliyunSmsProvider::send(const std::string& phone, const std::string& code, std::string* why) {
    const auto fail = [&](std::string w) {
        if (why)
            *why = std::move(w);
        return false;
    };
    const auto t = clock_.now_ms();
    auto p = params(phone, code, uuid4(), billing::format_rfc3339(t - t % 1000, 0));
    const auto sig = signature(config_.access_key_secret, "GET", p);
    outbound::Request req;
    req.url = fmt::format("{}{}{}&Signature={}", config_.endpoint,
                          config_.endpoint.find('?') == std::string::npos ? "?" : "&", canonical_query(p),
                          crypto::percent_encode(sig));
    const auto res = http_.send(req);
    if (res.status == 0)
        return fail("aliyun sms: " + res.error);
    std::string sms_code, message;
    if (auto doc = json::parse(res.body)) {
        std::string err;
        auto o = json::Object::root(*doc, &err);
        sms_code = o.opt_str("Code", 128).value_or("");
        message = o.opt_str("Message", 1024).value_or("");
    }
    if (res.status == 200 && sms_code == "OK")
        return true;
    return fail(
        fmt::format("aliyun sms: HTTP {} {}: {}", res.status, sms_code.empty() ? "(no Code)" : sms_code, message));
}

} // namespace pilehub::api
