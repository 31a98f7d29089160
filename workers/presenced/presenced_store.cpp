#include "workers/presenced/presenced_store.hpp"

namespace pilehub::presenced {

std::vector<Record> Store::load() {
    std::vector<Record> out;
    db::Statement st(db_, kSqlLoadPresence);
    while (st.step()) {
        Record r;
        r.device_id = st.text(0);
        r.status = st.int64(1) != 0 ? Status::Online : Status::Offline;
        r.boot = st.int64(2);
        r.since = st.int64(3);
        r.last_seen = st.int64(4);
        r.reason = st.text(5);
        out.push_back(std::move(r));
    }
    return out;
}

void Store::save(const Decision &d) {
    const auto &r = d.record;
    const std::int64_t online = r.status == Status::Online ? 1 : 0;
    db::Transaction tx(db_);
    db::Statement up(db_, kSqlUpsertPresence);
    up.bind_all(r.device_id, online, r.boot, r.since, r.last_seen, r.reason).run();
    if (d.logs_row()) {
        db::Statement log(db_, kSqlInsertLog);
        log.bind_all(r.device_id, online, r.boot, r.since, r.reason).run();
    }
    tx.commit();
}

void Store::touch(const std::vector<std::pair<std::string, EpochMs>> &seen) {
    if (seen.empty())
        return;
    db::Transaction tx(db_);
    db::Statement st(db_, kSqlTouch);
    for (const auto &[dev, at] : seen) {
        st.reset();
        st.bind_all(at, dev).run();
    }
    tx.commit();
}

std::optional<std::string> Store::device_kind(const std::string &dev) {
    db::Statement st(db_, kSqlDeviceKind);
    st.bind(1, dev);
    if (!st.step())
        return std::nullopt;
    return st.text(0);
}

std::optional<Periods> Store::periods(const std::string &dev) {
    db::Statement st(db_, kSqlDeviceConfig);
    st.bind(1, dev);
    if (!st.step())
        return std::nullopt;
    for (int col : {0, 1})
        if (auto text = st.opt_text(col))
            if (auto p = periods_from_config(*text))
                return p;
    return std::nullopt;
}

std::vector<LogRow> Store::log_of(db::Database &db, const std::string &dev) {
    std::vector<LogRow> out;
    db::Statement st(db, kSqlLogOf);
    st.bind(1, dev);
    while (st.step())
        out.push_back({st.text(0), st.int64(1) != 0, st.int64(2), st.int64(3), st.text(4)});
    return out;
}

} // namespace pilehub::presenced
