#include "web-api/alipay_gateway.hpp"

#include "common/tariff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace pilehub::api::alipay {
namespace {

constexpr std::int32_t kBeijingOffsetS = 8 * 3600;
constexpr std::size_t kMaxAnswerBytes = 256 * 1024;

bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Skips one JSON string starting at text[i] == '"'; the index after its closing quote, or npos.
std::size_t skip_string(std::string_view text, std::size_t i) {
    for (++i; i < text.size(); ++i) {
        if (text[i] == '\\')
            ++i;
        else if (text[i] == '"')
            return i + 1;
    }
    return std::string_view::npos;
}

// Skips one JSON value starting at text[i]; the index after it, or npos. Objects and arrays by
// bracket depth (strings skipped whole); scalars up to the next delimiter.
std::size_t skip_value(std::string_view text, std::size_t i) {
    if (i >= text.size())
        return std::string_view::npos;
    if (text[i] == '"')
        return skip_string(text, i);
    if (text[i] == '{' || text[i] == '[') {
        int depth = 0;
        while (i < text.size()) {
            const char c = text[i];
            if (c == '"') {
                i = skip_string(text, i);
                if (i == std::string_view::npos)
                    return i;
                continue;
            }
            if (c == '{' || c == '[')
                ++depth;
            else if (c == '}' || c == ']')
                --depth;
            ++i;
            if (depth == 0)
                return i;
        }
        return std::string_view::npos;
    }
    while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']' && !space(text[i]))
        ++i;
    return i;
}

std::size_t skip_space(std::string_view text, std::size_t i) {
    while (i < text.size() && space(text[i]))
        ++i;
    return i;
}

} // namespace

GatewayConfig gateway_config_from(const ProviderSettings& s) {
    GatewayConfig c;
    c.app_id = s.alipay.app_id;
    c.app_private_key_pem = read_key_file("pilehub-api.alipay.app_private_key_file", s.alipay.app_private_key_file);
    c.alipay_public_key_pem =
        read_key_file("pilehub-api.alipay.alipay_public_key_file", s.alipay.alipay_public_key_file);
    c.gateway_url = s.alipay.gateway_url;
    return c;
}

json::Object Reply::fields(std::string* err) const {
    return json::Object::root(doc, err);
}

std::string Reply::why() const {
    if (sub_code.empty())
        return fmt::format("alipay {} {}", code, msg);
    return fmt::format("alipay {} {}: {}", code, sub_code, sub_msg);
}

Gateway::Gateway(GatewayConfig config, outbound::Client& http, const Clock& clock)
    : config_(std::move(config)),
      app_key_(crypto::private_key_from("pilehub-api.alipay.app_private_key_file", config_.app_private_key_pem)),
      alipay_key_(crypto::public_key_from("pilehub-api.alipay.alipay_public_key_file", config_.alipay_public_key_pem)),
      http_(http), clock_(clock) {
    if (config_.app_id.empty())
        throw std::invalid_argument("pilehub-api.alipay.app_id: required");
    if (!outbound::split_url(config_.gateway_url))
        throw std::invalid_argument("pilehub-api.alipay.gateway_url: not an http(s) URL: " + config_.gateway_url);
}

std::string Gateway::canonical(std::vector<std::pair<std::string, std::string>> params, bool drop_sign_type) {
    params.erase(std::remove_if(params.begin(), params.end(),
                                [&](const auto& p) {
                                    return p.second.empty() || p.first == "sign" ||
                                           (drop_sign_type && p.first == "sign_type");
                                }),
                 params.end());
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& [k, v] : params) {
        if (!out.empty())
            out.push_back('&');
        out += k;
        out.push_back('=');
        out += v;
    }
    return out;
}

bool Gateway::verify(std::string_view content, std::string_view sign) const {
    return alipay_key_.verify_sha256_base64(content, sign);
}

bool Gateway::verify_notification(const std::vector<std::pair<std::string, std::string>>& form) const {
    const auto sign = form_value(form, "sign");
    return sign && verify(canonical(form, true), *sign);
}

Result<Reply> Gateway::call(std::string_view method, std::string_view biz_content,
                            std::vector<std::pair<std::string, std::string>> params) const {
    params.emplace_back("app_id", config_.app_id);
    params.emplace_back("method", std::string(method));
    params.emplace_back("format", "JSON");
    params.emplace_back("charset", "utf-8");
    params.emplace_back("sign_type", "RSA2");
    params.emplace_back("timestamp", beijing_time(clock_.now_ms()));
    params.emplace_back("version", "1.0");
    if (!biz_content.empty())
        params.emplace_back("biz_content", std::string(biz_content));
    params.emplace_back("sign", sign(canonical(params, false)));

    outbound::Request req;
    req.method = "POST";
    req.url = config_.gateway_url;
    req.content_type = "application/x-www-form-urlencoded;charset=utf-8";
    req.headers.emplace_back("Accept", "application/json");
    req.body = outbound::form_encode(params);
    const auto res = http_.send(req);
    if (res.status == 0)
        return Result<Reply>::failure(fmt::format("alipay {}: {}", method, res.error));
    if (res.status != 200)
        return Result<Reply>::failure(fmt::format("alipay {}: HTTP {}", method, res.status));
    if (res.body.size() > kMaxAnswerBytes)
        return Result<Reply>::failure(fmt::format("alipay {}: the answer is too long", method));

    std::string name(method);
    std::replace(name.begin(), name.end(), '.', '_');
    name += "_response";
    const auto member = member_text(res.body, name);
    if (!member) {
        // The gateway refused the call itself (bad signature, app, parameters): nothing happened.
        Reply r;
        if (const auto err = member_text(res.body, "error_response"); err && json::parse(*err)) {
            auto doc = json::parse(*err);
            std::string e;
            auto o = json::Object::root(*doc, &e);
            r.code = o.opt_str("code").value_or("");
            r.msg = o.opt_str("msg").value_or("");
            r.sub_code = o.opt_str("sub_code").value_or("");
            r.sub_msg = o.opt_str("sub_msg", 1024).value_or("");
            return Result<Reply>::failure(fmt::format("{} (error_response)", r.why()));
        }
        return Result<Reply>::failure(fmt::format("alipay {}: no {} in the answer", method, name));
    }
    auto doc = json::parse(res.body);
    if (!doc)
        return Result<Reply>::failure(fmt::format("alipay {}: {}", method, doc.error()));
    std::string err;
    auto root = json::Object::root(*doc, &err);
    const auto sig = root.opt_str("sign", 4096);
    if (!sig || !verify(*member, *sig))
        return Result<Reply>::failure(fmt::format("alipay {}: the answer's signature does not verify", method));

    Reply r;
    r.member = std::string(*member);
    auto parsed = json::parse(r.member);
    if (!parsed)
        return Result<Reply>::failure(fmt::format("alipay {}: {}", method, parsed.error()));
    r.doc = std::move(parsed).value();
    auto o = r.fields(&err);
    r.code = o.opt_str("code").value_or("");
    r.msg = o.opt_str("msg").value_or("");
    r.sub_code = o.opt_str("sub_code").value_or("");
    r.sub_msg = o.opt_str("sub_msg", 1024).value_or("");
    if (!err.empty())
        return Result<Reply>::failure(fmt::format("alipay {}: {}", method, err));
    // A business answer carries code 10000 (or a failure code); alipay.system.oauth.token's success
    // answer carries no code at all (its failures come as error_response).
    r.success = r.code == "10000" || (r.code.empty() && r.sub_code.empty());
    return r;
}

std::optional<Fen> parse_yuan(std::string_view s) {
    const auto dot = s.find('.');
    const auto whole = s.substr(0, dot);
    const auto frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    auto digits = [](std::string_view d) {
        return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (whole.empty() || whole.size() > 12 || !digits(whole))
        return std::nullopt;
    if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2 || !digits(frac)))
        return std::nullopt;
    std::int64_t fen = 0;
    for (char c : whole)
        fen = fen * 10 + (c - '0');
    fen *= 100;
    if (!frac.empty())
        fen += (frac[0] - '0') * 10 + (frac.size() == 2 ? frac[1] - '0' : 0);
    return Fen(fen);
}

std::string yuan(Fen f) {
    return f.yuan_string();
}

std::string beijing_time(EpochMs t) {
    // format_rfc3339 writes "yyyy-MM-ddTHH:mm:ss+08:00" for whole seconds.
    auto s = billing::format_rfc3339(t - (t % 1000 + 1000) % 1000, kBeijingOffsetS).substr(0, 19);
    s[10] = ' ';
    return s;
}

std::optional<EpochMs> parse_beijing_time(std::string_view s) {
    if (s.size() != 19 || s[10] != ' ')
        return std::nullopt;
    return billing::parse_local_datetime(s, kBeijingOffsetS);
}

std::optional<std::string_view> member_text(std::string_view body, std::string_view name) {
    std::size_t i = skip_space(body, 0);
    if (i >= body.size() || body[i] != '{')
        return std::nullopt;
    i = skip_space(body, i + 1);
    while (i < body.size() && body[i] == '"') {
        const std::size_t key_end = skip_string(body, i);
        if (key_end == std::string_view::npos)
            return std::nullopt;
        const auto key = body.substr(i + 1, key_end - i - 2);
        i = skip_space(body, key_end);
        if (i >= body.size() || body[i] != ':')
            return std::nullopt;
        i = skip_space(body, i + 1);
        const std::size_t value_end = skip_value(body, i);
        if (value_end == std::string_view::npos)
            return std::nullopt;
        if (key == name)
            return body.substr(i, value_end - i);
        i = skip_space(body, value_end);
        if (i < body.size() && body[i] == ',')
            i = skip_space(body, i + 1);
    }
    return std::nullopt;
}

std::optional<std::string> form_value(const std::vector<std::pair<std::string, std::string>>& form,
                                      std::string_view name) {
    for (const auto& [k, v] : form)
        if (k == name)
            return v;
    return std::nullopt;
}

} // namespace pilehub::api::alipay
