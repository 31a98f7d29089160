#include "common/retention.hpp"

#include "common/log.hpp"

#include <fmt/format.h>

#include <array>
#include <stdexcept>

namespace pilehub::retention {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

// Each batch deletes by primary key the oldest rows the time index finds: one short statement.
constexpr const char* kPurgeSessionSamples =
    "DELETE FROM session_samples WHERE (session_id, t) IN "
    "(SELECT session_id, t FROM session_samples WHERE t < ?1 ORDER BY t LIMIT ?2)";
constexpr const char* kPurgeDeviceSamples =
    "DELETE FROM device_samples WHERE (device_id, t) IN "
    "(SELECT device_id, t FROM device_samples WHERE t < ?1 ORDER BY t LIMIT ?2)";
constexpr const char* kPurgeDeviceEvents =
    "DELETE FROM device_events WHERE (device_id, msg_id) IN "
    "(SELECT device_id, msg_id FROM device_events WHERE at < ?1 ORDER BY at LIMIT ?2)";
constexpr const char* kPurgeProcessed =
    "DELETE FROM processed_messages WHERE (consumer, device_id, msg_id) IN (SELECT consumer, device_id, msg_id "
    "FROM processed_messages WHERE consumer = ?3 AND processed_at < ?1 LIMIT ?2)";

const char* sql_of(Kind k) {
    switch (k) {
    case Kind::SessionSamples:
        return kPurgeSessionSamples;
    case Kind::DeviceSamples:
        return kPurgeDeviceSamples;
    case Kind::DeviceEvents:
        return kPurgeDeviceEvents;
    case Kind::ProcessedMessages:
        return kPurgeProcessed;
    }
    return "";
}

constexpr std::array<std::string_view, 16> kMoneyTables{
    "accounts", "wallets",           "ledger",          "settlements",
    "payments", "payment_callbacks", "refunds",         "refund_parts",
    "cards",    "sessions",          "session_events",  "recharge_packages",
    "tariffs",  "occupancies",       "api_idempotency", "station_prepaid_amounts"};

} // namespace

std::string_view to_string(Kind k) {
    switch (k) {
    case Kind::SessionSamples:
        return "session_samples";
    case Kind::DeviceSamples:
        return "device_samples";
    case Kind::DeviceEvents:
        return "device_events";
    case Kind::ProcessedMessages:
        return "processed_messages";
    }
    return "?";
}

std::string_view table_of(Kind k) {
    return to_string(k);
}

int keep_days(Kind kind, const Policy& policy) {
    return kind == Kind::ProcessedMessages ? policy.dedup_days : policy.telemetry_days;
}

bool purged(Kind kind, std::int64_t age_ms, const Policy& policy) {
    return age_ms > keep_days(kind, policy) * kDayMs;
}

bool is_money_table(std::string_view table) {
    for (const auto t : kMoneyTables)
        if (t == table)
            return true;
    return false;
}

void add_keys(ConfigSchema& s) {
    s.add_int("retention.telemetry_days", 180, 1, 36500,
              "Telemetry (session_samples, device_samples, device_events) older than this many days is purged, in "
              "small batches, by recorderd.");
    s.add_int("retention.dedup_days", 30, 1, 36500,
              "De-duplication records (processed_messages) older than this many days are purged by the daemon "
              "that wrote them (sessiond keeps its own key, sessiond.processed_keep_days).");
}

Policy policy_from(const Config& cfg) {
    Policy p;
    p.telemetry_days = cfg.get_int32("retention.telemetry_days");
    p.dedup_days = cfg.get_int32("retention.dedup_days");
    return p;
}

Purger::Purger(db::Database& db, std::vector<Target> targets, Policy policy, Options options)
    : db_(db), targets_(std::move(targets)), policy_(policy), options_(options) {
    for (const auto& t : targets_) {
        if (is_money_table(table_of(t.kind)))
            throw std::logic_error(fmt::format("retention: {} is a money table", table_of(t.kind)));
        if ((t.kind == Kind::ProcessedMessages) == t.consumer.empty())
            throw std::logic_error("retention: processed_messages is purged per consumer, and only it");
    }
}

std::int64_t Purger::tick(EpochMs now) {
    if (!started_) {
        started_ = true;
        next_at_ = now + options_.first_delay_ms;
    }
    if (now < next_at_)
        return 0;
    next_at_ = now + options_.period_ms;
    std::int64_t total = 0;
    for (const auto& t : targets_) {
        const auto before = now - static_cast<std::int64_t>(keep_days(t.kind, policy_)) * kDayMs;
        std::int64_t removed = 0;
        for (int i = 0; i < options_.max_batches; ++i) {
            db::Statement q(db_, sql_of(t.kind));
            q.bind(1, before).bind(2, options_.batch_rows);
            if (t.kind == Kind::ProcessedMessages)
                q.bind(3, t.consumer);
            const int n = q.run();
            removed += n;
            if (n < options_.batch_rows)
                break;
            if (i + 1 == options_.max_batches)
                next_at_ = now; // more is left: the next tick goes on
        }
        if (removed > 0)
            log::info("retention: purged {} {} row(s){} older than {} days", removed, to_string(t.kind),
                      t.consumer.empty() ? "" : fmt::format(" of {}", t.consumer), keep_days(t.kind, policy_));
        total += removed;
    }
    return total;
}

} // namespace pilehub::retention
