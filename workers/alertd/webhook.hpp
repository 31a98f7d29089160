#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/svc.hpp"
#include "workers/alertd/alertd_store.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

/// The webhook: each opened alert POSTed to `alert.webhook_url`, signed, from the persisted outbox
/// `alert_deliveries`, on a thread of its own so that a slow receiver never blocks the rules.
namespace pilehub::alertd::webhook {

/// The HMAC-SHA256 (lowercase hex) of `<timestamp_s>.<body>` under `secret`.
std::string signature(std::string_view secret, std::int64_t timestamp_s, std::string_view body);
/// The `X-PileHub-Signature` header value: `t=<timestamp_s>,v1=<signature>`.
std::string signature_header(std::string_view secret, std::int64_t timestamp_s, std::string_view body);

/// The exponential back-off: the wait after failed attempt number `attempts` (1 = the first
/// failure): `first`, doubled after each failure, never more than `longest`.
std::chrono::milliseconds backoff(std::int64_t attempts, std::chrono::milliseconds first,
                                  std::chrono::milliseconds longest);

/// The alert as the receiver gets it: the svc `alert` payload (docs/topics.md "Alerts").
svc::Alert payload_of(const OutgoingAlert& a);

/// What a receiver answered: its HTTP status (0: no answer, then `error` says why).
struct Answer {
    int status = 0;
    std::string error;
    bool ok() const { return status >= 200 && status < 300; }
};

/// POSTs a JSON body. Implementations never throw.
class Transport {
public:
    virtual ~Transport() = default;
    virtual Answer post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& body) = 0;
};

/// Transport over cpp-httplib: `http://` or `https://` (the server's certificate verified against the
/// system's CA bundle), one connection per delivery, 5 s to connect, 10 s to answer, no redirects.
class HttplibTransport final : public Transport {
public:
    Answer post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& body) override;
};

struct Options {
    std::string url;    ///< `alert.webhook_url`; empty: no webhook
    std::string secret; ///< the shared secret (`alert.webhook_secret_file`)
    std::chrono::milliseconds retry_first{1'000};
    std::chrono::milliseconds retry_longest{3'600'000};
    std::chrono::milliseconds idle_poll{5'000}; ///< how often the outbox is read when nothing was signalled
    std::int64_t batch = 20;                    ///< deliveries sent per round
};

/// Delivers the outbox: due deliveries POSTed in order, a 2xx ends one (delivered once), anything
/// else (or no answer) is retried after backoff(). Uses its own database connection.
class Sender {
public:
    Sender(db::Database& db, Transport& http, const Clock& clock, Options options);
    ~Sender();
    Sender(const Sender&) = delete;
    Sender& operator=(const Sender&) = delete;

    void start();
    void stop();
    /// Something new was queued: look now instead of at the next poll.
    void wake();
    /// One round on the calling thread (tests): sends what is due; how many were delivered.
    std::size_t run_once();

private:
    void run();

    db::Database& db_;
    Store store_;
    Transport& http_;
    const Clock& clock_;
    Options opts_;
    std::mutex m_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool woken_ = false;
    std::thread thread_;
};

} // namespace pilehub::alertd::webhook
