#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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

private:
    sqlite3* db_ = nullptr;
    std::string path_;
};

/// A prepared statement. Bind by 1-based index, step, read columns by 0-based index.
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
    template <typename T> Statement& bind(int i, const std::optional<T>& v) {
        return v ? bind(i, *v) : bind_null(i);
    }
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
/// Returns how many were applied.
int migrate(Database& db, const std::vector<Migration>& migrations);

/// The core (business) database's migrations from schema/core, in order.
std::vector<Migration> core_migrations();
/// The telemetry database's migrations from schema/telemetry, in order.
std::vector<Migration> telemetry_migrations();

} // namespace pilehub::db
