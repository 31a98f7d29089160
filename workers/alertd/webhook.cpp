#include "workers/alertd/webhook.hpp"

#include "common/crypto.hpp"
#include "common/log.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>

namespace pilehub::alertd::webhook {

std::string signature(std::string_view secret, std::int64_t timestamp_s, std::string_view body) {
    return crypto::hmac_sha256_hex(secret, fmt::format("{}.{}", timestamp_s, body));
}

std::string signature_header(std::string_view secret, std::int64_t timestamp_s, std::string_view body) {
    return fmt::format("t={},v1={}", timestamp_s, signature(secret, timestamp_s, body));
}

std::chrono::milliseconds backoff(std::int64_t attempts, std::chrono::milliseconds first,
                                  std::chrono::milliseconds longest) {
    auto wait = first;
    for (std::int64_t i = 1; i < attempts && wait < longest; ++i)
        wait *= 2;
    return std::min(wait, longest);
}

svc::Alert payload_of(const OutgoingAlert& a) {
    svc::Alert x;
    x.id = a.id;
    x.kind = a.kind;
    x.device_id = a.device_id;
    x.n = a.n;
    x.subject = a.subject.empty() ? a.kind : a.subject.substr(0, 64);
    x.open = a.state != "resolved";
    x.severity = a.severity;
    x.msg = a.detail.substr(0, 512);
    x.at = a.opened_at;
    return x;
}

Answer HttplibTransport::post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body) {
    try {
        // `scheme://host[:port]` is the client's origin, the rest (from the first `/`) the path.
        const auto scheme_end = url.find("://");
        if (scheme_end == std::string::npos || (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0))
            return {0, "not an http(s) URL"};
        const auto slash = url.find('/', scheme_end + 3);
        const auto origin = url.substr(0, slash);
        const auto path = slash == std::string::npos ? std::string("/") : url.substr(slash);
        httplib::Client cli(origin);
        cli.set_connection_timeout(5, 0);
        cli.set_read_timeout(10, 0);
        cli.set_write_timeout(10, 0);
        cli.set_follow_location(false);
        if (url.rfind("https://", 0) == 0)
            cli.enable_server_certificate_verification(true);
        httplib::Headers h;
        for (const auto& [k, v] : headers)
            h.emplace(k, v);
        auto res = cli.Post(path, h, body, "application/json");
        if (!res)
            return {0, httplib::to_string(res.error())};
        return {res->status, {}};
    } catch (const std::exception& e) {
        return {0, e.what()};
    }
}

Sender::Sender(db::Database& db, Transport& http, const Clock& clock, Options options)
    : db_(db), store_(db), http_(http), clock_(clock), opts_(std::move(options)) {}

Sender::~Sender() {
    stop();
}

void Sender::start() {
    if (opts_.url.empty() || thread_.joinable())
        return;
    thread_ = std::thread([this] { run(); });
}

void Sender::stop() {
    {
        std::lock_guard lk(m_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void Sender::wake() {
    {
        std::lock_guard lk(m_);
        woken_ = true;
    }
    cv_.notify_all();
}

std::size_t Sender::run_once() {
    std::size_t delivered = 0;
    for (const auto& d : store_.due(clock_.now_ms(), opts_.batch)) {
        const auto body = svc::encode(payload_of(d.alert));
        const auto ts = clock_.now_ms() / 1000;
        const auto res = http_.post(opts_.url,
                                    {{"X-PileHub-Signature", signature_header(opts_.secret, ts, body)},
                                     {"X-PileHub-Alert-Id", std::to_string(d.alert.id)},
                                     {"X-PileHub-Event", d.event}},
                                    body);
        const log::Ctx ctx{d.alert.device_id, {}};
        if (res.ok()) {
            store_.delivered(d.id, clock_.now_ms());
            ++delivered;
            log::info(ctx, "alert {} ({}) delivered to the webhook after {} attempt(s)", d.alert.id, d.alert.kind,
                      d.attempts + 1);
            continue;
        }
        const auto why = res.status ? fmt::format("HTTP {}", res.status) : res.error;
        const auto wait = backoff(d.attempts + 1, opts_.retry_first, opts_.retry_longest);
        store_.failed(d.id, clock_.now_ms() + wait.count(), why);
        log::warn(ctx, "alert {} ({}): webhook attempt {} failed ({}), next in {} ms", d.alert.id, d.alert.kind,
                  d.attempts + 1, why, wait.count());
    }
    return delivered;
}

void Sender::run() {
    while (true) {
        try {
            run_once();
        } catch (const std::exception& e) {
            // The outbox is the truth: a failed round (the database busy) is tried again later.
            log::error("webhook round failed: {}", e.what());
        }
        auto wait = opts_.idle_poll;
        try {
            if (auto next = store_.next_due())
                wait = std::clamp(std::chrono::milliseconds(*next - clock_.now_ms()), std::chrono::milliseconds(10),
                                  opts_.idle_poll);
        } catch (const std::exception& e) {
            log::error("webhook outbox unreadable: {}", e.what());
        }
        std::unique_lock lk(m_);
        cv_.wait_for(lk, wait, [this] { return stopping_ || woken_; });
        if (stopping_)
            return;
        woken_ = false;
    }
}

} // namespace pilehub::alertd::webhook
