#include "web-api/login_wechat.hpp"

#include "common/crypto.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace pilehub::api {
namespace {

constexpr int kInvalidCredential = 40001;
constexpr int kTokenExpired = 42001;

// WeChat answers 200 with `errcode` for a refusal; the network and other statuses are failures too.
struct Parsed {
    rapidjson::Document doc;
    int errcode = 0;
    std::string errmsg;
};

Result<Parsed> parse_answer(std::string_view what, const outbound::Response& res) {
    if (res.status == 0)
        return Result<Parsed>::failure(fmt::format("wechat {}: {}", what, res.error));
    if (res.status != 200)
        return Result<Parsed>::failure(fmt::format("wechat {}: HTTP {}", what, res.status));
    auto doc = json::parse(res.body);
    if (!doc)
        return Result<Parsed>::failure(fmt::format("wechat {}: {}", what, doc.error()));
    Parsed p;
    p.doc = std::move(doc).value();
    std::string err;
    auto o = json::Object::root(p.doc, &err);
    p.errcode = static_cast<int>(o.opt_int("errcode").value_or(0));
    p.errmsg = o.opt_str("errmsg", 1024).value_or("");
    if (!err.empty())
        return Result<Parsed>::failure(fmt::format("wechat {}: {}", what, err));
    return p;
}

std::string refusal(std::string_view what, const Parsed& p) {
    return fmt::format("wechat {}: errcode {} {}", what, p.errcode, p.errmsg);
}

} // namespace

WechatLogin::WechatLogin(WechatLoginConfig config, outbound::Client& http, const Clock& clock)
    : config_(std::move(config)), http_(http), clock_(clock), base_(config_.base_url) {
    if (config_.appid.empty())
        throw std::invalid_argument("pilehub-api.wechat.appid: required");
    if (config_.secret.empty())
        throw std::invalid_argument("pilehub-api.wechat.secret_file: the AppSecret is empty");
    while (!base_.empty() && base_.back() == '/')
        base_.pop_back();
    if (!outbound::split_url(base_))
        throw std::invalid_argument("pilehub-api.wechat.base_url: not an http(s) URL: " + config_.base_url);
}

WechatLoginConfig WechatLogin::config_from(const ProviderSettings& s) {
    return {s.wechat.appid, read_key_file("pilehub-api.wechat.secret_file", s.wechat.secret_file), s.wechat.base_url};
}

std::unique_ptr<WechatLogin> WechatLogin::from(const ProviderSettings& s, outbound::Client& http, const Clock& clock) {
    return outbound::build_checked<WechatLogin>(s, http, clock);
}

outbound::Response WechatLogin::get(const std::string& path_and_query) {
    outbound::Request req;
    req.url = base_ + path_and_query;
    return http_.send(req);
}

Result<identity::Subject> WechatLogin::exchange(const std::string& code) {
    using R = Result<identity::Subject>;
    if (code.empty())
        return R::failure("wechat jscode2session: no code");
    auto p =
        parse_answer("jscode2session",
                     get(fmt::format("/sns/jscode2session?appid={}&secret={}&js_code={}&grant_type=authorization_code",
                                     crypto::percent_encode(config_.appid), crypto::percent_encode(config_.secret),
                                     crypto::percent_encode(code))));
    if (!p)
        return R::failure(p.error());
    if (p->errcode != 0)
        return R::failure(refusal("jscode2session", *p));
    std::string err;
    auto o = json::Object::root(p->doc, &err);
    identity::Subject s;
    s.provider = "wechat";
    s.id = o.req_str("openid", 128);
    s.union_id = o.opt_str("unionid", 128).value_or("");
    if (!err.empty() || s.id.empty())
        return R::failure("wechat jscode2session: " + (err.empty() ? std::string("empty openid") : err));
    return s;
}

Result<std::string> WechatLogin::access_token() {
    using R = Result<std::string>;
    std::lock_guard lock(token_mutex_);
    const auto now = clock_.now_ms();
    if (!token_.empty() && now < token_until_)
        return token_;
    auto p = parse_answer(
        "token", get(fmt::format("/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
                                 crypto::percent_encode(config_.appid), crypto::percent_encode(config_.secret))));
    if (!p)
        return R::failure(p.error());
    if (p->errcode != 0)
        return R::failure(refusal("token", *p));
    std::string err;
    auto o = json::Object::root(p->doc, &err);
    auto token = o.req_str("access_token", 1024);
    const auto expires_in = o.req_int("expires_in", 0, 365 * 86400);
    if (!err.empty() || token.empty())
        return R::failure("wechat token: " + (err.empty() ? std::string("empty access_token") : err));
    token_ = std::move(token);
    token_until_ = now + std::max<std::int64_t>(expires_in - kTokenMarginS, 0) * 1000;
    return token_;
}

void WechatLogin::forget_token(const std::string& token) {
    std::lock_guard lock(token_mutex_);
    if (token_ == token) {
        token_.clear();
        token_until_ = 0;
    }
}

Result<std::string> WechatLogin::phone_with(const std::string& token, const std::string& phone_code, int* errcode) {
    using R = Result<std::string>;
    json::Writer w;
    w.begin_object().field("code", phone_code).end_object();
    outbound::Request req;
    req.method = "POST";
    req.url = fmt::format("{}/wxa/business/getuserphonenumber?access_token={}", base_, crypto::percent_encode(token));
    req.content_type = "application/json";
    req.body = w.str();
    auto p = parse_answer("getuserphonenumber", http_.send(req));
    if (!p)
        return R::failure(p.error());
    *errcode = p->errcode;
    if (p->errcode != 0)
        return R::failure(refusal("getuserphonenumber", *p));
    std::string err;
    auto o = json::Object::root(p->doc, &err);
    auto info = o.req_obj("phone_info");
    const auto pure = info.req_str("purePhoneNumber", 32);
    const auto country = info.opt_str("countryCode", 8).value_or("86");
    const auto appid = info.req_obj("watermark").req_str("appid", 64);
    if (!err.empty() || pure.empty())
        return R::failure("wechat getuserphonenumber: " + (err.empty() ? std::string("empty purePhoneNumber") : err));
    if (appid != config_.appid)
        return R::failure(fmt::format("wechat getuserphonenumber: the answer is for app {}, not ours", appid));
    return country == "86" ? pure : fmt::format("+{}{}", country, pure);
}

Result<std::string> WechatLogin::phone(const std::string& phone_code) {
    using R = Result<std::string>;
    if (phone_code.empty())
        return R::failure("wechat getuserphonenumber: no code");
    for (int attempt = 0;; ++attempt) {
        auto token = access_token();
        if (!token)
            return R::failure(token.error());
        int errcode = 0;
        auto r = phone_with(*token, phone_code, &errcode);
        if (r || attempt > 0 || (errcode != kInvalidCredential && errcode != kTokenExpired))
            return r;
        forget_token(*token);
    }
}

} // namespace pilehub::api
