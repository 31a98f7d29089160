#pragma once
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pilehub::db {

/// A database failure (infrastructure): thrown, caught at the edge of a handler.
class Error : public std::runtime_error {
public:
    Error(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }
    /// SQLITE_CONSTRAINT and friends: the statement broke a rule (unique key, check).
    bool is_constraint() const { return (code_ & 0xff) == SQLITE_CONSTRAINT; }

private:
    int code_;
};

/// How durable commits are: FULL for money, NORMAL for everything else (WAL either way).
enum class Sync { Normal, Full };

/// One connection. Opened in WAL mode with a busy timeout and foreign keys on.
///
/// The busy timeout is our own busy handler, not sqlite3_busy_timeout: SQLite's own sleeps grow to
/// 100 ms, so under many writers a waiter that started early keeps missing the lock to newcomers
/// and times out (16 processes debiting one wallet: 13 of 16 got "database is locked" at 5 s,
/// chaos_wallet_race). Ours polls every 1-4 ms (jittered) until the timeout.
class Database {
public:
    struct Options {
        Sync sync = Sync::Normal;
        int busy_timeout_ms = 5000;
        bool read_only = false;
    };
    explicit Database(const std::string& path) : Database(path, Options{}) {}
    Database(const std::string& path, const Options& opts);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    /// Runs SQL without results (several statements allowed). For migrations and pragmas.
    void exec(std::string_view sql);
    sqlite3* handle() const { return db_; }
    const std::string& path() const { return path_; }
    std::int64_t last_insert_rowid() const;
    int changes() const;
    /// PRAGMA user_version.
    int user_version();

    /// How many prepared statements this connection keeps for reuse (see Statement).
    std::size_t cached_statements() const { return cached_; }

private:
    friend class Statement;
    static int on_busy(void* self, int attempts);
    int busy_timeout_ms_ = 0;
    std::chrono::steady_clock::time_point busy_since_{};
    using FreeList = std::vector<sqlite3_stmt*>;
    /// A prepared statement for `sql`: a cached one if there is one free, else a new one; and the
    /// list it goes back to (nullptr when the cache holds kMaxCachedSql texts already).
    std::pair<sqlite3_stmt*, FreeList*> take(std::string_view sql);
    /// Resets a statement and keeps it in `home` for the next Statement with the same SQL.
    void give_back(sqlite3_stmt* st, FreeList* home) noexcept;

    sqlite3* db_ = nullptr;
    std::string path_;
    /// Free prepared statements by SQL text. A connection is used by one thread at a time (a
    /// worker's thread, or an API request holding a pool lease), so this needs no lock.
    std::unordered_map<std::string, FreeList> cache_; // node-based: a FreeList* stays valid
    std::size_t cached_ = 0;
};

/// A prepared statement. Bind by 1-based index, step, read columns by 0-based index.
/// Preparing is most of the cost of a short query (the profile in docs/benchmarks.md), so the
/// connection keeps a statement for reuse when it is destroyed: constructing a Statement with SQL
/// seen before on the same connection costs a hash lookup, not a parse. It comes back reset, with
/// no bindings.
class Statement {
public:
    Statement(Database& db, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement(Statement&& o) noexcept;

    Statement& bind(int i, std::int64_t v);
    Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, double v);
    Statement& bind(int i, std::string_view v);
    Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Statement& bind_blob(int i, std::string_view bytes);
    Statement& bind_null(int i);
    template <typename T> Statement& bind(int i, const std::optional<T>& v) { return v ? bind(i, *v) : bind_null(i); }
    /// Binds all arguments from index 1.
    template <typename... A> Statement& bind_all(const A&... a) {
        int i = 0;
        (bind(++i, a), ...);
        return *this;
    }

    /// true when a row is ready, false when done. Throws db::Error on failure.
    bool step();
    /// Steps to completion; for INSERT/UPDATE/DELETE. Returns sqlite3_changes().
    int run();
    void reset();

    bool is_null(int col) const;
    std::int64_t int64(int col) const;
    double real(int col) const;
    std::string text(int col) const;
    std::optional<std::int64_t> opt_int64(int col) const;
    std::optional<std::string> opt_text(int col) const;

private:
    Database* db_;
    sqlite3_stmt* st_ = nullptr;
    Database::FreeList* home_ = nullptr; ///< where st_ is kept for reuse (nullptr: finalized)
};

/// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless commit() ran.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Database& db_;
    bool done_ = false;
};

/// A numbered migration: the number is its position (1-based) in the list.
struct Migration {
    std::string name;
    std::string_view sql;
};

/// Applies every migration above PRAGMA user_version, each in its own transaction that also
/// sets user_version. Refuses a database newer than the migrations it knows.
/// Returns how many were applied. A migration that rebuilds a table others reference starts with
/// the line `-- pilehub: rebuilds tables`: it then runs with foreign keys off and must leave
/// PRAGMA foreign_key_check empty before it commits (SQLite's recipe for altering a table).
int migrate(Database& db, const std::vector<Migration>& migrations);

/// The core (business) database's migrations from schema/core, in order.
std::vector<Migration> core_migrations();
/// The telemetry database's migrations from schema/telemetry, in order.
std::vector<Migration> telemetry_migrations();

} // namespace pilehub::db
