#include "web-api/login_alipay.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace pilehub::api {
namespace {

constexpr std::size_t kMaxPhoneTextBytes = 8 * 1024;

bool aes_key_size(std::size_t n) {
    return n == 16 || n == 24 || n == 32;
}

} // namespace

AlipayLogin::AlipayLogin(AlipayLoginConfig config, outbound::Client& http, const Clock& clock)
    : config_(std::move(config)), gateway_(config_.gateway, http, clock) {
    if (!aes_key_size(config_.aes_key.size()))
        throw std::invalid_argument(
            fmt::format("pilehub-api.alipay.aes_key_file: the AES key is 16 bytes (base64 of them), not {}",
                        config_.aes_key.size()));
}

AlipayLoginConfig AlipayLogin::config_from(const ProviderSettings& s) {
    AlipayLoginConfig c;
    c.gateway = alipay::gateway_config_from(s);
    const auto text = read_key_file("pilehub-api.alipay.aes_key_file", s.alipay.aes_key_file);
    c.aes_key = crypto::unbase64(text);
    if (!aes_key_size(c.aes_key.size()))
        throw ConfigError(fmt::format(
            "config: pilehub-api.alipay.aes_key_file: `{}` is not base64 of a 16-byte AES key", s.alipay.aes_key_file));
    return c;
}

std::unique_ptr<AlipayLogin> AlipayLogin::from(const ProviderSettings& s, outbound::Client& http, const Clock& clock) {
    return outbound::build_checked<AlipayLogin>(s, http, clock);
}

Result<identity::Subject> AlipayLogin::exchange(const std::string& code) {
    using R = Result<identity::Subject>;
    if (code.empty())
        return R::failure("alipay oauth.token: no code");
    auto r = gateway_.call("alipay.system.oauth.token", "", {{"grant_type", "authorization_code"}, {"code", code}});
    if (!r)
        return R::failure(r.error());
    if (!r->success)
        return R::failure(r->why());
    std::string err;
    auto o = r->fields(&err);
    identity::Subject s;
    s.provider = "alipay";
    s.id = o.opt_str("user_id", 128).value_or("");
    if (s.id.empty())
        s.id = o.opt_str("open_id", 128).value_or("");
    if (!err.empty() || s.id.empty())
        return R::failure("alipay oauth.token: " + (err.empty() ? std::string("no user_id or open_id") : err));
    return s;
}

Result<std::string> AlipayLogin::phone(const std::string& phone_code) {
    using R = Result<std::string>;
    if (phone_code.empty() || phone_code.size() > kMaxPhoneTextBytes)
        return R::failure("alipay phone: no phone text, or too long");
    auto doc = json::parse(phone_code);
    if (!doc)
        return R::failure("alipay phone: " + doc.error());
    std::string err;
    auto o = json::Object::root(*doc, &err);
    const auto response = o.req_str("response", kMaxPhoneTextBytes);
    const auto sign = o.req_str("sign", 4096);
    const auto sign_type = o.opt_str("sign_type", 16).value_or("RSA2");
    const auto encrypt_type = o.opt_str("encrypt_type", 16).value_or("AES");
    if (!err.empty())
        return R::failure("alipay phone: " + err);
    if (sign_type != "RSA2" || encrypt_type != "AES")
        return R::failure(
            fmt::format("alipay phone: sign_type {} / encrypt_type {} (RSA2 / AES expected)", sign_type, encrypt_type));
    if (!gateway_.verify("\"" + response + "\"", sign) && !gateway_.verify(response, sign))
        return R::failure("alipay phone: the signature does not verify with Alipay's public key");
    const auto plain = crypto::aes_cbc_decrypt(config_.aes_key, std::string(16, '\0'), crypto::unbase64(response));
    if (!plain)
        return R::failure("alipay phone: the response does not decrypt with the app's AES key");
    auto inner = json::parse(*plain);
    if (!inner)
        return R::failure("alipay phone: " + inner.error());
    auto p = json::Object::root(*inner, &err);
    const auto code = p.opt_str("code", 16).value_or("");
    const auto mobile = p.opt_str("mobile", 32).value_or("");
    if (code != "10000")
        return R::failure(fmt::format("alipay phone: {} {} {} {}", code, p.opt_str("msg", 256).value_or(""),
                                      p.opt_str("subCode", 128).value_or(""), p.opt_str("subMsg", 256).value_or("")));
    if (!err.empty() || mobile.empty())
        return R::failure("alipay phone: " + (err.empty() ? std::string("no mobile") : err));
    return mobile;
}

} // namespace pilehub::api
