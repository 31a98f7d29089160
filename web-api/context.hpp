#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/mqtt.hpp"
#include "common/payments.hpp"
#include "common/rpc.hpp"
#include "web-api/identity.hpp"
#include "web-api/settings.hpp"
#include "web-api/station_counts.hpp"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pilehub::api {

class DeviceCache;

/// SQLite connections shared by the HTTP threads: one connection per concurrent user, reused.
class DbPool {
public:
    DbPool(std::string path, db::Database::Options options) : path_(std::move(path)), options_(options) {}
    /// A connection on loan; returned to the pool when destroyed.
    class Lease {
    public:
        Lease(DbPool& pool, std::unique_ptr<db::Database> d) : pool_(&pool), db_(std::move(d)) {}
        Lease(Lease&&) noexcept = default;
        ~Lease();
        db::Database& operator*() const { return *db_; }
        db::Database* operator->() const { return db_.get(); }

    private:
        DbPool* pool_;
        std::unique_ptr<db::Database> db_;
    };
    /// Borrows a connection (opens a new one if none is free).
    Lease get();
    const std::string& path() const { return path_; }

private:
    std::string path_;
    db::Database::Options options_;
    std::mutex m_;
    std::vector<std::unique_ptr<db::Database>> free_;
};

/// The session worker as the API sees it: the `sessiond` rpc service (docs/topics.md).
class SessionService {
public:
    virtual ~SessionService() = default;
    /// Sends `method` with `data_json` and waits up to `timeout_ms` for the reply.
    virtual rpc::Reply call(const std::string& method, const std::string& data_json, int timeout_ms) = 0;
};

/// SessionService over MQTT request/reply.
class RpcSessionService final : public SessionService {
public:
    explicit RpcSessionService(rpc::Client& client) : client_(client) {}
    rpc::Reply call(const std::string& method, const std::string& data_json, int timeout_ms) override {
        return client_.call("sessiond", method, data_json, std::chrono::milliseconds(timeout_ms));
    }

private:
    rpc::Client& client_;
};

/// Publishes retained configuration documents (cfg/desired).
using Publish = std::function<bool(const mqtt::Message&)>;

/// Sends SMS login codes.
class SmsProvider {
public:
    virtual ~SmsProvider() = default;
    /// Sends `code` to `phone`; false with `why` if it could not.
    virtual bool send(const std::string& phone, const std::string& code, std::string* why) = 0;
    /// Whether replies may carry the code (development only).
    virtual bool reveals_code() const = 0;
};

/// The development provider: writes the code to the log and lets the reply carry it.
class DevSmsProvider final : public SmsProvider {
public:
    bool send(const std::string& phone, const std::string& code, std::string* why) override;
    bool reveals_code() const override { return true; }
};

/// Everything route handlers use.
struct Services {
    Settings settings;
    const Clock* clock = &SystemClock::instance();
    std::unique_ptr<DbPool> core;
    std::unique_ptr<DbPool> telemetry;
    SessionService* sessions = nullptr;     ///< may be null in tests: rpc routes answer 504
    rpc::Client* rpc = nullptr;             ///< other workers' rpc (parkingd); may be null: those routes answer 504
    Publish publish;                        ///< may be empty in tests
    DeviceCache* devices = nullptr;         ///< may be null: live state then comes from the database only
    std::function<bool()> broker_connected; ///< the API's broker connection (/health); empty in tests: not checked
    StationCountsCache station_counts;      ///< rider lists' socket counts, for settings.station_counts_ttl_ms
    std::unique_ptr<SmsProvider> sms;       ///< null: SMS login unavailable (production without a provider)
    payments::ProviderRegistry providers;   ///< the sandbox only in development mode
    std::string payment_provider; ///< the channel new orders use by default; empty: online recharge unavailable
    /// Mini-program login providers by name (`wechat`, `alipay`); empty in development mode without them.
    std::map<std::string, std::unique_ptr<identity::LoginProvider>, std::less<>> logins;
    std::string version = "0.1.0";

    EpochMs now() const { return clock->now_ms(); }
};

} // namespace pilehub::api
