#include "workers/alertd/alertd_store.hpp"

namespace pilehub::alertd {

std::vector<Current> Store::load_current() {
    std::vector<Current> out;
    db::Statement st(db_, kSqlLoadCurrent);
    while (st.step())
        out.push_back(Current{st.text(0), st.text(1), st.int64(2), st.text(3)});
    return out;
}

std::optional<std::int64_t> Store::open(const Decision& d, bool deliver) {
    const auto& a = d.about;
    db::Transaction tx(db_);
    db::Statement ins(db_, kSqlInsertAlert);
    ins.bind_all(a.kind, a.device_id.empty() ? std::nullopt : std::optional<std::string>(a.device_id), a.n, a.subject,
                 a.key(), std::string(alerts::severity_of(a.kind)), d.detail, d.at);
    if (!ins.step())
        return std::nullopt; // rolled back: nothing was written
    const auto id = ins.int64(0);
    ins.reset();
    if (deliver) {
        db::Statement q(db_, kSqlInsertDelivery);
        q.bind_all(id, "opened", d.at).run();
    }
    tx.commit();
    return id;
}

void Store::touch(const Decision& d) {
    db::Statement st(db_, kSqlTouch);
    st.bind_all(d.about.key(), d.at).run();
}

std::optional<std::int64_t> Store::resolve(const Decision& d) {
    db::Statement st(db_, kSqlResolve);
    st.bind_all(d.about.key(), d.at, d.detail);
    if (!st.step())
        return std::nullopt;
    return st.int64(0);
}

std::optional<std::string> Store::device_kind(const std::string& dev) {
    db::Statement st(db_, kSqlDeviceKind);
    st.bind(1, dev);
    if (!st.step())
        return std::nullopt;
    return st.text(0);
}

std::optional<double> Store::temp_warn(const std::string& dev) {
    db::Statement st(db_, kSqlDesiredConfig);
    st.bind(1, dev);
    if (!st.step())
        return std::nullopt;
    return temp_warn_from_config(st.text(0));
}

std::vector<StuckSession> Store::stuck_sessions(EpochMs before) {
    std::vector<StuckSession> out;
    db::Statement st(db_, kSqlStuckSessions);
    st.bind(1, before);
    while (st.step())
        out.push_back(StuckSession{st.text(0), st.text(1), st.int64(2), st.text(3), st.int64(4)});
    return out;
}

std::vector<PaymentAnomaly> Store::payment_anomalies() {
    std::vector<PaymentAnomaly> out;
    db::Statement st(db_, kSqlPaymentAnomalies);
    while (st.step())
        out.push_back(PaymentAnomaly{st.text(0), st.text(1)});
    return out;
}

std::vector<Delivery> Store::due(EpochMs now, std::int64_t limit) {
    std::vector<Delivery> out;
    db::Statement st(db_, kSqlDueDeliveries);
    st.bind_all(now, limit);
    while (st.step()) {
        Delivery d;
        d.id = st.int64(0);
        d.alert.id = st.int64(1);
        d.event = st.text(2);
        d.attempts = st.int64(3);
        d.alert.kind = st.text(4);
        d.alert.device_id = st.text(5);
        d.alert.n = st.int64(6);
        d.alert.subject = st.text(7);
        d.alert.state = st.text(8);
        d.alert.severity = st.text(9);
        d.alert.detail = st.text(10);
        d.alert.opened_at = st.int64(11);
        out.push_back(std::move(d));
    }
    return out;
}

void Store::delivered(std::int64_t delivery_id, EpochMs at) {
    db::Statement st(db_, kSqlDelivered);
    st.bind_all(delivery_id, at).run();
}

void Store::failed(std::int64_t delivery_id, EpochMs next_at, const std::string& error) {
    db::Statement st(db_, kSqlDeliveryFailed);
    st.bind_all(delivery_id, next_at, error.substr(0, 512)).run();
}

std::optional<EpochMs> Store::next_due() {
    db::Statement st(db_, kSqlNextDue);
    if (!st.step())
        return std::nullopt;
    return st.opt_int64(0);
}

} // namespace pilehub::alertd
