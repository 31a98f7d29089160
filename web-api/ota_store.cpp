#include "web-api/ota_store.hpp"

#include "common/crypto.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

constexpr const char* kInsertFirmware =
    "INSERT INTO firmware (kind, model, version, sha256, size, path, uploaded_by, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id";
constexpr const char* kFirmwareColumns = "id, kind, model, version, sha256, size, path, uploaded_by, created_at";
constexpr const char* kInsertRollout =
    "INSERT INTO rollouts (firmware_id, target, batch_size, batch_interval_s, max_failures, timeout_s, token_hash, "
    "token_expires_at, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', ?7, ?8, ?9) RETURNING id";
constexpr const char* kSetToken = "UPDATE rollouts SET token_hash = ?2 WHERE id = ?1";
constexpr const char* kInsertRolloutDevice =
    "INSERT INTO rollout_devices (rollout_id, device_id, updated_at) VALUES (?1, ?2, ?3)";
constexpr const char* kRolloutColumns =
    "r.id, r.firmware_id, f.version, r.target, r.state, r.halt_reason, r.created_by, r.batch_size, "
    "r.batch_interval_s, r.max_failures, r.timeout_s, r.failures, r.token_expires_at, r.created_at, r.finished_at";
constexpr const char* kRolloutCounts =
    "SELECT state, count(*) FROM rollout_devices WHERE rollout_id = ?1 GROUP BY state ORDER BY state";
constexpr const char* kRolloutDevices =
    "SELECT rd.device_id, rd.state, rd.error, rd.batch, rd.progress_pct, rd.rid, df.version, rd.sent_at, "
    "rd.updated_at FROM rollout_devices rd LEFT JOIN device_firmware df ON df.device_id = rd.device_id "
    "WHERE rd.rollout_id = ?1 ORDER BY rd.rowid";
constexpr const char* kInRunning =
    "SELECT 1 FROM rollout_devices rd JOIN rollouts r ON r.id = rd.rollout_id WHERE rd.device_id = ?1 "
    "AND r.state = 'running' LIMIT 1";
constexpr const char* kHalt =
    "UPDATE rollouts SET state = 'halted', halt_reason = ?2, finished_at = ?3 WHERE id = ?1 AND state = 'running'";
constexpr const char* kSkipPending = "UPDATE rollout_devices SET state = 'skipped', error = 'rollout halted', "
                                     "updated_at = ?2 WHERE rollout_id = ?1 AND state = 'pending'";
constexpr const char* kDownload =
    "SELECT f.path FROM rollouts r JOIN firmware f ON f.id = r.firmware_id WHERE r.firmware_id = ?1 AND "
    "r.token_hash = ?2 AND r.state = 'running' AND r.token_expires_at > ?3 LIMIT 1";

FirmwareRow firmware_row(db::Statement& st) {
    return FirmwareRow{st.int64(0), st.text(1), st.text(2), st.text(3), st.text(4),
                       st.int64(5), st.text(6), st.text(7), st.int64(8)};
}

/// `AND <column> IN (1,2,3)` for a scope; nothing for every station; a false condition for none.
std::string scope_sql(const std::optional<std::set<std::int64_t>>& scope, std::string_view column) {
    if (!scope)
        return "";
    if (scope->empty())
        return " AND 0";
    std::string ids;
    for (auto id : *scope)
        ids += fmt::format("{}{}", ids.empty() ? "" : ",", id);
    return fmt::format(" AND {} IN ({})", column, ids);
}

} // namespace

std::int64_t OtaStore::add_firmware(const FirmwareRow& f) {
    db::Statement st(db_, kInsertFirmware);
    st.bind_all(f.kind, f.model, f.version, f.sha256, f.size, f.path, f.uploaded_by, f.created_at);
    st.step();
    return st.int64(0);
}

std::optional<FirmwareRow> OtaStore::firmware(std::int64_t id) {
    db::Statement st(db_, fmt::format("SELECT {} FROM firmware WHERE id = ?1", kFirmwareColumns));
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return firmware_row(st);
}

std::vector<FirmwareRow> OtaStore::firmware_list(const std::string& kind) {
    db::Statement st(
        db_, fmt::format("SELECT {} FROM firmware WHERE ?1 = '' OR kind = ?1 ORDER BY id DESC", kFirmwareColumns));
    st.bind(1, kind);
    std::vector<FirmwareRow> out;
    while (st.step())
        out.push_back(firmware_row(st));
    return out;
}

std::vector<OtaDevice> OtaStore::devices(const std::string& kind, const std::string& model,
                                         const std::optional<std::vector<std::string>>& ids,
                                         std::optional<std::int64_t> station_id) {
    std::vector<OtaDevice> out;
    db::Statement st(db_, "SELECT id, station_id, kind, model FROM devices WHERE kind = ?1 AND (?2 = '' OR model = ?2) "
                          "AND (?3 IS NULL OR station_id = ?3) ORDER BY id");
    st.bind_all(kind, model, station_id);
    std::set<std::string> wanted;
    if (ids)
        wanted.insert(ids->begin(), ids->end());
    while (st.step()) {
        OtaDevice d{st.text(0), st.int64(1), st.text(2), st.text(3)};
        if (!ids || wanted.count(d.id))
            out.push_back(std::move(d));
    }
    return out;
}

std::vector<std::string> OtaStore::in_running_rollout(const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    db::Statement st(db_, kInRunning);
    for (const auto& id : ids) {
        st.reset();
        st.bind(1, id);
        if (st.step())
            out.push_back(id);
    }
    return out;
}

std::int64_t OtaStore::create_rollout(const NewRollout& r, const std::function<std::string(std::int64_t)>& token_of,
                                      EpochMs now) {
    db::Transaction tx(db_);
    std::int64_t id = 0;
    {
        db::Statement ins(db_, kInsertRollout);
        ins.bind_all(r.firmware_id, r.target, r.batch_size, r.batch_interval_s, r.max_failures, r.timeout_s,
                     r.token_expires_at, r.created_by, now);
        ins.step();
        id = ins.int64(0);
    } // finalized before COMMIT (a RETURNING statement stays in progress until then)
    db::Statement(db_, kSetToken).bind_all(id, crypto::sha256_hex(token_of(id))).run();
    db::Statement dev(db_, kInsertRolloutDevice);
    for (const auto& d : r.device_ids) {
        dev.reset();
        dev.bind_all(id, d, now).run();
    }
    tx.commit();
    return id;
}

namespace {

RolloutRow rollout_row(db::Database& db, db::Statement& st) {
    RolloutRow r;
    r.id = st.int64(0);
    r.firmware_id = st.int64(1);
    r.version = st.text(2);
    r.target = st.text(3);
    r.state = st.text(4);
    r.halt_reason = st.text(5);
    r.created_by = st.text(6);
    r.batch_size = st.int64(7);
    r.batch_interval_s = st.int64(8);
    r.max_failures = st.int64(9);
    r.timeout_s = st.int64(10);
    r.failures = st.int64(11);
    r.token_expires_at = st.int64(12);
    r.created_at = st.int64(13);
    r.finished_at = st.opt_int64(14);
    db::Statement c(db, kRolloutCounts);
    c.bind(1, r.id);
    while (c.step())
        r.counts.emplace_back(c.text(0), c.int64(1));
    return r;
}

} // namespace

std::vector<RolloutRow> OtaStore::rollouts(const std::optional<std::set<std::int64_t>>& scope) {
    const auto where =
        scope ? fmt::format(" WHERE EXISTS (SELECT 1 FROM rollout_devices rd JOIN devices d ON d.id = rd.device_id "
                            "WHERE rd.rollout_id = r.id{})",
                            scope_sql(scope, "d.station_id"))
              : std::string();
    db::Statement st(db_, fmt::format("SELECT {} FROM rollouts r JOIN firmware f ON f.id = r.firmware_id{} "
                                      "ORDER BY r.id DESC LIMIT 200",
                                      kRolloutColumns, where));
    std::vector<RolloutRow> out;
    while (st.step())
        out.push_back(rollout_row(db_, st));
    return out;
}

std::optional<RolloutRow> OtaStore::rollout(std::int64_t id) {
    db::Statement st(db_, fmt::format("SELECT {} FROM rollouts r JOIN firmware f ON f.id = r.firmware_id "
                                      "WHERE r.id = ?1",
                                      kRolloutColumns));
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return rollout_row(db_, st);
}

std::vector<RolloutDeviceRow> OtaStore::rollout_devices(std::int64_t id) {
    db::Statement st(db_, kRolloutDevices);
    st.bind(1, id);
    std::vector<RolloutDeviceRow> out;
    while (st.step()) {
        RolloutDeviceRow d;
        d.device_id = st.text(0);
        d.state = st.text(1);
        d.error = st.text(2);
        d.batch = st.opt_int64(3);
        d.progress_pct = st.opt_int64(4);
        d.rid = st.opt_text(5);
        d.reported_version = st.opt_text(6);
        d.sent_at = st.opt_int64(7);
        d.updated_at = st.int64(8);
        out.push_back(std::move(d));
    }
    return out;
}

bool OtaStore::rollout_in_scope(std::int64_t id, const std::optional<std::set<std::int64_t>>& scope) {
    if (!scope)
        return true;
    db::Statement st(db_, fmt::format("SELECT 1 FROM rollout_devices rd JOIN devices d ON d.id = rd.device_id "
                                      "WHERE rd.rollout_id = ?1{} LIMIT 1",
                                      scope_sql(scope, "d.station_id")));
    st.bind(1, id);
    return st.step();
}

bool OtaStore::halt(std::int64_t id, const std::string& by, EpochMs now) {
    db::Transaction tx(db_);
    if (db::Statement(db_, kHalt).bind_all(id, "halted by " + by, now).run() == 0)
        return false;
    db::Statement(db_, kSkipPending).bind_all(id, now).run();
    tx.commit();
    return true;
}

std::optional<std::string> OtaStore::download_path(std::int64_t firmware_id, const std::string& token_hash,
                                                   EpochMs now) {
    db::Statement st(db_, kDownload);
    st.bind_all(firmware_id, token_hash, now);
    if (!st.step())
        return std::nullopt;
    return st.text(0);
}

} // namespace pilehub::api
