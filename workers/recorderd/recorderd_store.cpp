#include "workers/recorderd/recorderd_store.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace pilehub::recorderd {

namespace {

void bind_sample(db::Statement& st, int first, const SessionSample& s) {
    st.bind(first, s.session_id)
        .bind(first + 1, s.t)
        .bind(first + 2, s.power_w)
        .bind(first + 3, s.energy_wh)
        .bind(first + 4, s.voltage_dv)
        .bind(first + 5, s.current_ma)
        .bind(first + 6, s.soc_pct);
}

} // namespace

std::string insert_session_samples_sql(int rows) {
    std::string sql(kSqlInsertSessionSample.substr(0, kSqlInsertSessionSample.find("VALUES")));
    sql += "VALUES ";
    for (int i = 0; i < rows; ++i) {
        const int b = i * 7;
        sql += fmt::format("{}(?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})", i ? ", " : "", b + 1, b + 2, b + 3, b + 4, b + 5,
                           b + 6, b + 7);
    }
    return sql;
}

TelemetryStore::TelemetryStore(db::Database& db)
    : db_(db), session_(db, kSqlInsertSessionSample), sessions_(db, insert_session_samples_sql(kSamplesPerInsert)),
      device_(db, kSqlInsertDeviceSample), event_(db, kSqlInsertEvent) {}

std::size_t TelemetryStore::write(const Batch& b) {
    if (b.rows() == 0)
        return 0;
    std::size_t inserted = 0;
    db::Transaction tx(db_);
    const auto n = b.sessions.size();
    const auto chunk = static_cast<std::size_t>(kSamplesPerInsert);
    std::size_t i = 0;
    for (; i + chunk <= n; i += chunk) {
        sessions_.reset();
        for (std::size_t k = 0; k < chunk; ++k)
            bind_sample(sessions_, static_cast<int>(k) * 7 + 1, b.sessions[i + k]);
        inserted += static_cast<std::size_t>(sessions_.run());
    }
    for (; i < n; ++i) {
        session_.reset();
        bind_sample(session_, 1, b.sessions[i]);
        inserted += static_cast<std::size_t>(session_.run());
    }
    for (const auto& d : b.devices) {
        device_.reset();
        device_.bind_all(d.device_id, d.t, d.temp_dc, d.total_power_w, d.rssi_dbm);
        inserted += static_cast<std::size_t>(device_.run());
    }
    tx.commit();
    return inserted;
}

bool TelemetryStore::insert_event(const std::string& dev, const std::string& msg_id, std::string_view type, EpochMs at,
                                  std::string_view payload) {
    event_.reset();
    event_.bind_all(dev, msg_id, type, at, payload);
    return event_.run() > 0;
}

std::optional<std::vector<FaultChange>>
FaultStore::record(const std::string& dev, const std::string& msg_id, int n, EpochMs at,
                   const std::function<std::vector<FaultChange>(const std::vector<std::string>& open)>& decide) {
    db::Transaction tx(db_);
    db::Statement mark(db_, kSqlMarkProcessed);
    if (mark.bind_all(dev, msg_id, at).run() == 0)
        return std::nullopt; // rolled back: nothing was written
    std::vector<std::string> open;
    {
        db::Statement q(db_, kSqlOpenFaultCodes);
        q.bind_all(dev, n);
        while (q.step())
            open.push_back(q.text(0));
    }
    auto changes = decide(open);
    for (const auto& c : changes) {
        if (c.kind == FaultChange::Kind::Open) {
            db::Statement st(db_, kSqlOpenFault);
            st.bind_all(dev, c.n, c.code, c.bit, at, msg_id).run();
        } else {
            db::Statement st(db_, kSqlCloseFault);
            st.bind_all(at, dev, c.n, c.code).run();
        }
    }
    tx.commit();
    return changes;
}

Directory::Directory(const std::string& path, int busy_timeout_ms, EpochMs unknown_retry_ms)
    : db_(path, db::Database::Options{db::Sync::Normal, busy_timeout_ms, false}), retry_ms_(unknown_retry_ms) {}

std::optional<std::string> Directory::kind(const std::string& dev, EpochMs now) {
    std::lock_guard l(m_);
    if (auto it = kinds_.find(dev); it != kinds_.end())
        return it->second;
    if (auto it = unknown_.find(dev); it != unknown_.end() && now < it->second)
        return std::nullopt;
    db::Statement st(db_, kSqlDeviceKind);
    st.bind(1, dev);
    if (!st.step()) {
        unknown_[dev] = now + retry_ms_;
        return std::nullopt;
    }
    unknown_.erase(dev);
    return kinds_[dev] = st.text(0);
}

bool Directory::session_on(const std::string& sid, const std::string& dev, int n, EpochMs now) {
    // Sessions a bounded cache remembers; past this the cache starts again (sessions are many, short).
    constexpr std::size_t kMaxCached = 200'000;
    std::lock_guard l(m_);
    if (auto it = sockets_.find(sid); it != sockets_.end())
        return it->second.first == dev && it->second.second == n;
    if (auto it = unknown_sessions_.find(sid); it != unknown_sessions_.end() && now < it->second)
        return false;
    db::Statement st(db_, kSqlSessionSocket);
    st.bind(1, sid);
    if (!st.step()) {
        if (unknown_sessions_.size() >= kMaxCached) {
            std::erase_if(unknown_sessions_, [&](const auto& kv) { return kv.second <= now; });
            if (unknown_sessions_.size() >= kMaxCached / 2) // a flood of made-up ids: start again
                unknown_sessions_.clear();
        }
        // A row appears as the session starts: look again soon (the telemetry meanwhile is dropped).
        unknown_sessions_[sid] = now + std::min<EpochMs>(retry_ms_, 5'000);
        return false;
    }
    unknown_sessions_.erase(sid);
    if (sockets_.size() >= kMaxCached)
        sockets_.clear();
    auto& socket = sockets_[sid] = {st.text(0), static_cast<int>(st.int64(1))};
    return socket.first == dev && socket.second == n;
}

} // namespace pilehub::recorderd
