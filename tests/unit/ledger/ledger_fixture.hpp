#pragma once
// Shared by the ledger, payments and billingd tests: a real core database and telemetry database
// in a private temporary directory, with the rows a session needs (operator, station, device).
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace pilehub::test {

/// The tariff of BILLING.md §1 without its energy mode: time and power, 5 free minutes, a cap.
inline constexpr const char* kPowerTariff = R"({
  "name": "Residential e-bike",
  "timezone": "Asia/Shanghai",
  "modes": ["time", "power"],
  "time":  {"fen_per_hour": 100, "options_minutes": [60, 120, 240, 480]},
  "power": {"tiers": [{"up_to_w": 150, "fen_per_hour": 25}, {"up_to_w": 300, "fen_per_hour": 30},
                      {"up_to_w": 500, "fen_per_hour": 45}, {"up_to_w": 1000, "fen_per_hour": 57},
                      {"up_to_w": 2000, "fen_per_hour": 100}],
            "ignore_first_s": 60},
  "free_minutes": 5,
  "cap": {"max_minutes": 720, "max_fen": 1000},
  "min_start_balance_fen": 200,
  "stop_below_balance_fen": 0
})";

/// A unique temporary directory, removed at the end unless PILEHUB_KEEP_TEST_DIRS=1.
class TempDir {
public:
    explicit TempDir(const std::string& name) {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                fmt::format("pilehub-{}-{}-{}", name, ::getpid(), counter.fetch_add(1));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        const char* keep = std::getenv("PILEHUB_KEEP_TEST_DIRS");
        if (!keep || std::string(keep) != "1") {
            std::error_code ec;
            std::filesystem::remove_all(path_, ec);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// A migrated core database (synchronous=FULL, as for money) and telemetry database.
struct MoneyDb {
    TempDir dir;
    ManualClock clock;
    std::unique_ptr<db::Database> core;
    std::unique_ptr<db::Database> telemetry;
    std::unique_ptr<ledger::Ledger> ledger;

    explicit MoneyDb(const std::string& name) : dir(name) {
        db::Database::Options o;
        o.sync = db::Sync::Full;
        core = std::make_unique<db::Database>(core_path(), o);
        db::migrate(*core, db::core_migrations());
        telemetry = std::make_unique<db::Database>(dir.file("telemetry.db"));
        db::migrate(*telemetry, db::telemetry_migrations());
        ledger = std::make_unique<ledger::Ledger>(*core, clock);
    }
    std::string core_path() const { return dir.file("pilehub.db"); }
    std::string telemetry_path() const { return dir.file("telemetry.db"); }

    /// A new account (phone derived from `n`) with an optional opening recharge.
    std::int64_t account(int n, std::int64_t real_fen = 0, std::int64_t bonus_fen = 0) {
        auto o = ledger->open_account(
            {fmt::format("1380000{:04}", n), fmt::format("rider {}", n), std::nullopt, ledger::DebitOrder::RealFirst});
        if (real_fen > 0 || bonus_fen > 0) {
            ledger::Credit c;
            c.account_id = o.account_id;
            c.real_fen = Fen(real_fen);
            c.bonus_fen = Fen(bonus_fen);
            c.meta.idempotency_key = fmt::format("open:{}", o.account_id);
            c.meta.operator_name = "test";
            ledger->credit(c);
        }
        return o.account_id;
    }

    std::int64_t count(const std::string& sql) {
        db::Statement st(*core, sql);
        return st.step() ? st.int64(0) : -1;
    }
    std::int64_t balance(std::int64_t account) { return ledger->wallet(account)->balance_fen.value(); }
    std::int64_t bonus(std::int64_t account) { return ledger->wallet(account)->bonus_fen.value(); }
    std::int64_t ledger_rows() { return count("SELECT count(*) FROM ledger"); }

    /// Operator 1, station 1, device `pile-1` with 10 sockets (what a session row refers to).
    void station() {
        core->exec("INSERT OR IGNORE INTO operators (id, name, created_at) VALUES (1, 'op', 0)");
        core->exec("INSERT OR IGNORE INTO stations (id, operator_id, name, lat_e6, lon_e6, created_at) "
                   "VALUES (1, 1, 'station', 31000000, 121000000, 0)");
        core->exec(
            "INSERT OR IGNORE INTO devices (id, kind, station_id, created_at) VALUES ('pile-1', 'ebike_pile', 1, 0)");
    }

    /// A tariff version of station 1; returns its id.
    std::int64_t tariff(const std::string& document, EpochMs effective_from = 0, int version = 1) {
        station();
        db::Statement(*core, "INSERT INTO tariffs (station_id, version, document, effective_from, created_at) "
                             "VALUES (1, ?, ?, ?, ?)")
            .bind_all(std::int64_t{version}, document, effective_from, effective_from)
            .run();
        return core->last_insert_rowid();
    }

    /// What a session row holds for the tests.
    struct SessionRow {
        std::string id;
        std::int64_t account_id = 0;
        int n = 1;
        std::string mode = "power";
        std::optional<std::int64_t> minutes = std::nullopt;
        std::optional<std::int64_t> tariff_id = std::nullopt;
        std::string state = "stopping";
        EpochMs started_at = 0;
        std::int64_t duration_s = 0;
        std::int64_t energy_wh = 0;
        std::int64_t max_power_w = 0;
        std::string stop_reason = "full";
        std::optional<std::string> record_msg_id = std::string("rec-1");
        std::optional<std::int64_t> max_fen = std::nullopt;        ///< the rider's prepaid amount
        std::optional<std::int64_t> meter_start_wh = std::nullopt; ///< an EV charger's meter register
        std::optional<std::int64_t> meter_stop_wh = std::nullopt;
    };

    /// Inserts a session as sessiond leaves it (ended with its record committed, by default).
    void session(const SessionRow& s) {
        station();
        const bool ended = s.record_msg_id.has_value();
        db::Statement(
            *core, "INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, minutes, tariff_id, "
                   "state, stop_reason, created_at, started_at, ended_at, energy_wh, duration_s, max_power_w, "
                   "record_msg_id, updated_at, max_fen, meter_start_wh, meter_stop_wh) VALUES (?, ?, 'app', 'pile-1', "
                   "?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind_all(s.id, s.account_id, std::int64_t{s.n}, s.mode, s.minutes, s.tariff_id, s.state,
                      ended ? std::optional<std::string>(s.stop_reason) : std::nullopt, s.started_at, s.started_at,
                      ended ? std::optional<EpochMs>(s.started_at + s.duration_s * 1000) : std::nullopt, s.energy_wh,
                      s.duration_s, s.max_power_w, s.record_msg_id, s.started_at, s.max_fen, s.meter_start_wh,
                      s.meter_stop_wh)
            .run();
    }

    /// A power-curve sample in the telemetry database.
    void sample(const std::string& sid, EpochMs t, std::int64_t power_w, std::int64_t energy_wh) {
        db::Statement(*telemetry, "INSERT INTO session_samples (session_id, t, power_w, energy_wh) VALUES (?, ?, ?, ?)")
            .bind_all(sid, t, power_w, energy_wh)
            .run();
    }

    std::string session_state(const std::string& sid) {
        db::Statement st(*core, "SELECT state FROM sessions WHERE id = ?");
        st.bind(1, sid);
        return st.step() ? st.text(0) : std::string();
    }
    std::optional<std::int64_t> session_cost(const std::string& sid) {
        db::Statement st(*core, "SELECT cost_fen FROM sessions WHERE id = ?");
        st.bind(1, sid);
        return st.step() ? st.opt_int64(0) : std::nullopt;
    }
};

} // namespace pilehub::test
