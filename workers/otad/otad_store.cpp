#include "workers/otad/otad_store.hpp"

#include <set>

namespace pilehub::otad {

std::vector<std::int64_t> Store::running_ids() {
    std::vector<std::int64_t> out;
    db::Statement st(db_, kSqlRunningIds);
    while (st.step())
        out.push_back(st.int64(0));
    return out;
}

std::optional<Rollout> Store::load(std::int64_t rollout_id) {
    db::Statement st(db_, kSqlLoadRollout);
    st.bind(1, rollout_id);
    if (!st.step())
        return std::nullopt;
    Rollout r;
    r.id = st.int64(0);
    r.firmware_id = st.int64(1);
    r.version = st.text(2);
    r.sha256 = st.text(3);
    r.batch_size = static_cast<int>(st.int64(4));
    r.batch_interval_s = st.int64(5);
    r.max_failures = static_cast<int>(st.int64(6));
    r.timeout_s = st.int64(7);
    r.state = parse_rollout_state(st.text(8)).value_or(RolloutState::Halted);
    r.failures = static_cast<int>(st.int64(9));
    r.halt_reason = st.text(10);
    r.finished_at = st.opt_int64(11);
    db::Statement d(db_, kSqlLoadDevices);
    d.bind(1, rollout_id);
    while (d.step()) {
        RolloutDevice x;
        x.device_id = d.text(0);
        x.state = parse_device_state(d.text(1)).value_or(DeviceState::Failed);
        if (auto b = d.opt_int64(2))
            x.batch = static_cast<int>(*b);
        x.rid = d.opt_text(3);
        x.sent_at = d.opt_int64(4);
        x.updated_at = d.int64(5);
        if (auto p = d.opt_int64(6))
            x.progress_pct = static_cast<int>(*p);
        x.error = d.text(7);
        r.devices.push_back(std::move(x));
    }
    return r;
}

std::vector<std::int64_t> Store::apply(const Effects& e) {
    std::set<std::int64_t> touched;
    for (const auto& d : e.devices)
        touched.insert(d.rollout_id);
    for (const auto& r : e.rollouts)
        touched.insert(r.rollout_id);
    db::Transaction tx(db_);
    std::vector<std::int64_t> gone;
    for (auto id : touched) {
        db::Statement st(db_, kSqlRolloutState);
        st.bind(1, id);
        if (!st.step() || st.text(0) != "running")
            gone.push_back(id);
    }
    if (!gone.empty())
        return gone; // rolled back: nothing written
    db::Statement dev(db_, kSqlUpdateDevice);
    for (const auto& c : e.devices) {
        const auto& d = c.device;
        std::optional<std::int64_t> batch, progress;
        if (d.batch)
            batch = *d.batch;
        if (d.progress_pct)
            progress = *d.progress_pct;
        dev.reset();
        dev.bind_all(c.rollout_id, d.device_id, std::string(to_string(d.state)), batch, d.rid, d.sent_at, d.updated_at,
                     progress, d.error)
            .run();
    }
    db::Statement roll(db_, kSqlUpdateRollout);
    for (const auto& r : e.rollouts) {
        roll.reset();
        roll.bind_all(r.rollout_id, std::string(to_string(r.state)), static_cast<std::int64_t>(r.failures),
                      r.halt_reason, r.finished_at)
            .run();
    }
    tx.commit();
    return {};
}

void Store::save_firmware(const std::string& device_id, const std::string& version, EpochMs at) {
    db::Statement(db_, kSqlUpsertFirmware).bind_all(device_id, version, at).run();
}

std::vector<std::pair<std::string, std::string>> Store::firmware() {
    std::vector<std::pair<std::string, std::string>> out;
    db::Statement st(db_, kSqlLoadFirmware);
    while (st.step())
        out.emplace_back(st.text(0), st.text(1));
    return out;
}

bool Store::known(const std::string& device_id) {
    db::Statement st(db_, kSqlDeviceKnown);
    st.bind(1, device_id);
    return st.step();
}

bool Store::busy(const std::string& device_id) {
    db::Statement st(db_, kSqlDeviceBusy);
    st.bind(1, device_id);
    return st.step();
}

} // namespace pilehub::otad
