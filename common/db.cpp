#include "common/db.hpp"

#include "common/log.hpp"
#include "schema/embedded.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>

namespace pilehub::db {
namespace {

[[noreturn]] void raise(sqlite3* db, int rc, std::string_view what) {
    throw Error(fmt::format("sqlite: {}: {} ({})", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc),
                db ? sqlite3_extended_errcode(db) : rc);
}

/// SQLite counts every allocation under one process-wide mutex unless told not to (memory
/// statistics, which we never read); with several API threads that mutex was a fifth of the CPU
/// profile (docs/benchmarks.md). Must run before SQLite initialises, hence before the first open.
void configure_sqlite_once() {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

} // namespace

Database::Database(const std::string& path, const Options& opts) : path_(path) {
    configure_sqlite_once();
    const int flags = opts.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(fmt::format("sqlite: cannot open {}: {}", path, msg), rc);
    }
    sqlite3_extended_result_codes(db_, 1);
    busy_timeout_ms_ = opts.busy_timeout_ms;
    sqlite3_busy_handler(db_, busy_timeout_ms_ > 0 ? &Database::on_busy : nullptr, this);
    if (!opts.read_only)
        exec("PRAGMA journal_mode=WAL");
    exec(opts.sync == Sync::Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
}

int Database::on_busy(void* self, int attempts) {
    auto& d = *static_cast<Database*>(self);
    const auto now = std::chrono::steady_clock::now();
    if (attempts == 0)
        d.busy_since_ = now;
    if (now - d.busy_since_ >= std::chrono::milliseconds(d.busy_timeout_ms_))
        return 0; // SQLITE_BUSY to the caller
    thread_local std::minstd_rand jitter(static_cast<unsigned>(
        std::chrono::steady_clock::now().time_since_epoch().count() ^ reinterpret_cast<std::uintptr_t>(&d)));
    std::this_thread::sleep_for(std::chrono::microseconds(1000 + jitter() % 3000));
    return 1;
}

Database::~Database() {
    for (auto& [sql, free] : cache_)
        for (auto* st : free)
            sqlite3_finalize(st);
    if (db_)
        sqlite3_close_v2(db_);
}

namespace {
// Enough for every distinct SQL text a process runs. SQL built at run time (filters, IN lists)
// beyond this many texts is prepared each time rather than growing the cache without bound.
constexpr std::size_t kMaxCachedSql = 256;
} // namespace

std::pair<sqlite3_stmt*, Database::FreeList*> Database::take(std::string_view sql) {
    FreeList* home = nullptr;
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) {
        home = &it->second;
        if (!home->empty()) {
            auto* st = home->back();
            home->pop_back();
            --cached_;
            return {st, home};
        }
    }
    sqlite3_stmt* st = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK)
        raise(db_, rc, fmt::format("prepare `{}`", sql.substr(0, 80)));
    if (!home && cache_.size() < kMaxCachedSql)
        home = &cache_.try_emplace(std::move(key)).first->second;
    return {st, home};
}

void Database::give_back(sqlite3_stmt* st, FreeList* home) noexcept {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (home) {
        try {
            home->push_back(st);
            ++cached_;
            return;
        } catch (...) { // out of memory: do without the cache
        }
    }
    sqlite3_finalize(st);
}

void Database::exec(std::string_view sql) {
    char* err = nullptr;
    const std::string s(sql);
    const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw Error(fmt::format("sqlite: {}", msg), sqlite3_extended_errcode(db_));
    }
}

std::int64_t Database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_);
}
int Database::changes() const {
    return sqlite3_changes(db_);
}

int Database::user_version() {
    Statement st(*this, "PRAGMA user_version");
    st.step();
    return static_cast<int>(st.int64(0));
}

Statement::Statement(Database& db, std::string_view sql) : db_(&db) {
    std::tie(st_, home_) = db.take(sql);
}

Statement::~Statement() {
    if (st_)
        db_->give_back(st_, home_);
}

Statement::Statement(Statement&& o) noexcept : db_(o.db_), st_(o.st_), home_(o.home_) {
    o.st_ = nullptr;
}

Statement& Statement::bind(int i, std::int64_t v) {
    if (int rc = sqlite3_bind_int64(st_, i, v); rc != SQLITE_OK)
        raise(db_->handle(), rc, "bind");
    return *this;
}
Statement& Statement::bind(int i, double v) {
    if (int rc = sqlite3_bind_double(st_, i, v); rc != SQLITE_OK)
        raise(db_->handle(), rc, "bind");
    return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
    if (int rc = sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); rc != SQLITE_OK)
        raise(db_->handle(), rc, "bind");
    return *this;
}
Statement& Statement::bind_blob(int i, std::string_view v) {
    if (int rc = sqlite3_bind_blob(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); rc != SQLITE_OK)
        raise(db_->handle(), rc, "bind");
    return *this;
}
Statement& Statement::bind_null(int i) {
    if (int rc = sqlite3_bind_null(st_, i); rc != SQLITE_OK)
        raise(db_->handle(), rc, "bind");
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    const int ext = sqlite3_extended_errcode(db_->handle());
    std::string msg = sqlite3_errmsg(db_->handle());
    sqlite3_reset(st_);
    throw Error(fmt::format("sqlite: step `{}`: {}", std::string_view(sqlite3_sql(st_)).substr(0, 80), msg), ext);
}

int Statement::run() {
    while (step()) {
    }
    const int n = sqlite3_changes(db_->handle());
    sqlite3_reset(st_);
    return n;
}

void Statement::reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
}

bool Statement::is_null(int c) const {
    return sqlite3_column_type(st_, c) == SQLITE_NULL;
}
std::int64_t Statement::int64(int c) const {
    return sqlite3_column_int64(st_, c);
}
double Statement::real(int c) const {
    return sqlite3_column_double(st_, c);
}
std::string Statement::text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, c))) : std::string();
}
std::optional<std::int64_t> Statement::opt_int64(int c) const {
    if (is_null(c))
        return std::nullopt;
    return int64(c);
}
std::optional<std::string> Statement::opt_text(int c) const {
    if (is_null(c))
        return std::nullopt;
    return text(c);
}

Transaction::Transaction(Database& db) : db_(db) {
    Statement(db_, "BEGIN IMMEDIATE").run();
}

Transaction::~Transaction() {
    // A COMMIT that failed with SQLITE_FULL or an I/O error has already rolled back: nothing to undo
    // (a ROLLBACK then would only log "no transaction is active").
    if (!done_ && !sqlite3_get_autocommit(db_.handle())) {
        try {
            Statement(db_, "ROLLBACK").run();
        } catch (const Error& e) {
            log::error("sqlite: rollback failed: {}", e.what());
        }
    }
}

void Transaction::commit() {
    Statement(db_, "COMMIT").run();
    done_ = true;
}

namespace {
/// The first line of a migration that rebuilds a referenced table (see migrate()).
constexpr std::string_view kRebuildsTables = "-- pilehub: rebuilds tables";
} // namespace

int migrate(Database& db, const std::vector<Migration>& migrations) {
    const int have = db.user_version();
    const int known = static_cast<int>(migrations.size());
    if (have > known)
        throw Error(fmt::format("database {} is at schema version {}, newer than this build knows ({}): refusing "
                                "to run on it (no downgrades: run the newer build, or restore a backup taken "
                                "before the upgrade)",
                                db.path(), have, known),
                    SQLITE_ERROR);
    int applied = 0;
    for (int i = have; i < known; ++i) {
        const auto& m = migrations[static_cast<std::size_t>(i)];
        const bool rebuilds = m.sql.starts_with(kRebuildsTables);
        if (rebuilds)
            db.exec("PRAGMA foreign_keys=OFF"); // a no-op inside a transaction: set before BEGIN
        try {
            Transaction tx(db);
            db.exec(m.sql);
            if (rebuilds) {
                Statement check(db, "PRAGMA foreign_key_check");
                if (check.step())
                    throw Error(
                        fmt::format("migration {} leaves a foreign key of table {} dangling", m.name, check.text(0)),
                        SQLITE_CONSTRAINT);
            }
            db.exec(fmt::format("PRAGMA user_version={}", i + 1));
            tx.commit();
        } catch (...) {
            if (rebuilds)
                db.exec("PRAGMA foreign_keys=ON");
            throw;
        }
        if (rebuilds)
            db.exec("PRAGMA foreign_keys=ON");
        log::info("migration {} ({}) applied to {}", i + 1, migrations[static_cast<std::size_t>(i)].name, db.path());
        ++applied;
    }
    return applied;
}

namespace {
// A migration's number is its position, so the file names must count 001, 002, ... without gaps:
// a gap would renumber every later migration and corrupt databases already migrated.
std::vector<Migration> from_embedded(const std::vector<schema::EmbeddedFile>& files) {
    std::vector<Migration> out;
    for (const auto& f : files) {
        const auto want = fmt::format("{:03}_", out.size() + 1);
        if (f.name.substr(0, want.size()) != want)
            throw Error(fmt::format("migration {} is out of sequence: expected a name starting with {}", f.name, want),
                        SQLITE_ERROR);
        out.push_back({std::string(f.name), f.text});
    }
    return out;
}
} // namespace

std::vector<Migration> core_migrations() {
    return from_embedded(schema::core_migrations());
}
std::vector<Migration> telemetry_migrations() {
    return from_embedded(schema::telemetry_migrations());
}

} // namespace pilehub::db
