// pilehubctl backup / restore. The copy is SQLite's online backup API run under a read transaction
// on the live database: in WAL mode that transaction blocks no writer, and because the source's
// snapshot cannot change under it, the backup never restarts however busy the writers are.
#include "ctl_backup.hpp"

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/db.hpp"
#include "common/files.hpp"
#include "common/json.hpp"
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "ctl_commands.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

namespace pilehub::ctl {
namespace {
namespace fs = std::filesystem;

struct SqliteCloser {
    void operator()(sqlite3* d) const { sqlite3_close_v2(d); }
};
using Handle = std::unique_ptr<sqlite3, SqliteCloser>;

Handle open_raw(const std::string& path, int flags) {
    sqlite3* d = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &d, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    Handle h(d);
    if (rc != SQLITE_OK)
        throw db::Error(fmt::format("cannot open {}: {}", path, d ? sqlite3_errmsg(d) : sqlite3_errstr(rc)), rc);
    return h;
}

void exec(sqlite3* d, const char* sql) {
    char* msg = nullptr;
    const int rc = sqlite3_exec(d, sql, nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
        const std::string what = msg ? msg : sqlite3_errstr(rc);
        sqlite3_free(msg);
        throw db::Error(fmt::format("{}: {}", sql, what), rc);
    }
}

/// Creates `path` empty with mode 0600 (SQLite then writes the database into it, and gives its
/// journal the same mode).
void create_private(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
    ::close(fd);
}

void fsync_path(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ::fsync(fd);
    ::close(fd);
}

/// The whole content of a small text file ("" if it cannot be read).
std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

namespace backup {

std::string to_json(const Manifest& m) {
    json::Writer w;
    w.begin_object().field("format", 1).field("created_at", m.created_at).field("created_at_ms", m.created_at_ms);
    w.key("files").begin_array();
    for (const auto& f : m.files)
        w.begin_object()
            .field("role", f.role)
            .field("name", f.name)
            .field("source", f.source)
            .field("bytes", f.bytes)
            .field("sha256", f.sha256)
            .field("schema_version", f.schema_version)
            .field("copy_ms", f.copy_ms)
            .end_object();
    w.end_array().end_object();
    return w.str() + "\n";
}

std::optional<Manifest> parse_manifest(const std::string& text, std::string* why) {
    auto doc = json::parse(text);
    if (!doc) {
        *why = "manifest.json is not JSON";
        return std::nullopt;
    }
    std::string err;
    auto o = json::Object::root(*doc, &err);
    Manifest m;
    o.req_int("format", 1, 1);
    m.created_at = o.req_str("created_at", 64);
    m.created_at_ms = o.req_int("created_at_ms", 0);
    auto files = o.req_arr("files", 16);
    for (std::size_t i = 0; i < files.size(); ++i) {
        auto f = files.obj(i);
        FileEntry e;
        e.role = f.req_str("role", 16);
        e.name = f.req_str("name", 64);
        e.source = f.req_str("source", 4096);
        e.bytes = f.req_int("bytes", 0);
        e.sha256 = f.req_str("sha256", 64);
        e.schema_version = static_cast<int>(f.req_int("schema_version", 0, 100000));
        e.copy_ms = f.opt_int("copy_ms", 0).value_or(0);
        if (e.name.find('/') != std::string::npos || e.name.empty() || e.name[0] == '.')
            f.fail("name", "must be a plain file name");
        m.files.push_back(std::move(e));
    }
    if (!o.ok()) {
        *why = "manifest.json: " + err;
        return std::nullopt;
    }
    return m;
}

namespace {
std::string utc(std::int64_t ms, const char* pattern) {
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format(fmt::runtime(pattern), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, ms % 1000);
}
} // namespace

std::string directory_name(std::int64_t ms) {
    return utc(ms, "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z");
}

std::string iso_utc(std::int64_t ms) {
    return utc(ms, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z");
}

bool is_backup_name(const std::string& name) {
    // YYYYMMDDTHHMMSS.mmmZ
    if (name.size() != 20 || name[8] != 'T' || name[15] != '.' || name[19] != 'Z')
        return false;
    for (std::size_t i = 0; i < 19; ++i)
        if (i != 8 && i != 15 && (name[i] < '0' || name[i] > '9'))
            return false;
    return true;
}

std::vector<std::string> to_prune(std::vector<std::string> names, std::size_t keep) {
    names.erase(std::remove_if(names.begin(), names.end(), [](const auto& n) { return !is_backup_name(n); }),
                names.end());
    std::sort(names.begin(), names.end());
    if (names.size() <= keep)
        return {};
    names.resize(names.size() - keep);
    return names;
}

void online_copy(const std::string& source, const std::string& dest, int pages_per_step, int busy_timeout_ms) {
    db::Database::Options o;
    o.busy_timeout_ms = busy_timeout_ms;
    db::Database src(source, o);
    create_private(dest);
    auto dst = open_raw(dest, SQLITE_OPEN_READWRITE);
    // The snapshot the copy is taken from: held until the last step.
    src.exec("BEGIN");
    {
        db::Statement pin(src, "SELECT count(*) FROM sqlite_master");
        pin.step();
    }
    sqlite3_backup* b = sqlite3_backup_init(dst.get(), "main", src.handle(), "main");
    if (!b)
        throw db::Error(fmt::format("backup of {}: {}", source, sqlite3_errmsg(dst.get())), sqlite3_errcode(dst.get()));
    int rc = SQLITE_OK;
    for (;;) {
        rc = sqlite3_backup_step(b, pages_per_step);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            break;
        // Between steps: leave the disk to the daemons for a moment.
        std::this_thread::sleep_for(std::chrono::milliseconds(rc == SQLITE_OK ? 1 : 10));
    }
    const int fin = sqlite3_backup_finish(b);
    src.exec("COMMIT");
    if (rc != SQLITE_DONE || fin != SQLITE_OK)
        throw db::Error(fmt::format("backup of {} failed: {}", source, sqlite3_errstr(rc != SQLITE_DONE ? rc : fin)),
                        rc != SQLITE_DONE ? rc : fin);
    // A copy of a WAL database is marked WAL; make it one self-contained file.
    exec(dst.get(), "PRAGMA journal_mode=DELETE");
    dst.reset();
    fsync_path(dest);
}

std::string integrity(const std::string& path) {
    auto d = open_raw(path, SQLITE_OPEN_READONLY);
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(d.get(), "PRAGMA integrity_check", -1, &st, nullptr);
    if (rc != SQLITE_OK)
        return fmt::format("cannot check: {}", sqlite3_errmsg(d.get()));
    std::string out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        out += out.empty() ? "" : "; ";
        out += t ? t : "";
    }
    if (rc != SQLITE_DONE)
        out = fmt::format("cannot check: {}", sqlite3_errmsg(d.get()));
    sqlite3_finalize(st);
    return out;
}

} // namespace backup

namespace {
using namespace backup;

int schema_version_of(const std::string& path) {
    db::Database::Options o;
    o.read_only = true;
    db::Database d(path, o);
    return d.user_version();
}

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// The databases a backup holds: (role, live path, name in the backup).
std::vector<std::array<std::string, 3>> databases(const Config& cfg) {
    return {{"core", cfg.get_string("db.path"), kCoreFile},
            {"telemetry", cfg.get_string("db.telemetry_path"), kTelemetryFile}};
}

} // namespace

int cmd_backup(const Config& cfg, const Args& a) {
    if (a.words.size() != 1)
        throw ConfigError("usage: backup --out DIR [--keep N] [--pages-per-step N]");
    const fs::path out = a.require("out");
    const auto keep = a.get_int("keep", 0, 0, 100000);
    const auto pages = static_cast<int>(a.get_int("pages-per-step", 256, 1, 1 << 20));
    const auto busy = cfg.get_int32("db.busy_timeout_ms");
    for (const auto& [role, path, name] : databases(cfg))
        if (!fs::exists(path)) {
            std::cerr << fmt::format("pilehubctl: no {} database at {}\n", role, path);
            return 1;
        }
    files::ensure_private_directory(out.string());
    const auto t0 = steady_ms();
    Manifest m;
    m.created_at_ms = SystemClock::instance().now_ms();
    const auto name = directory_name(m.created_at_ms);
    m.created_at = iso_utc(m.created_at_ms);
    // Written under a temporary name and renamed when complete: a backup directory that exists is whole.
    const auto partial = out / ("." + name + ".partial");
    const auto final_dir = out / name;
    if (fs::exists(final_dir))
        throw std::runtime_error(fmt::format("{} already exists", final_dir.string()));
    fs::remove_all(partial);
    files::ensure_private_directory(partial.string());
    try {
        for (const auto& [role, path, file] : databases(cfg)) {
            const auto dest = (partial / file).string();
            const auto c0 = steady_ms();
            online_copy(path, dest, pages, busy);
            FileEntry e;
            e.role = role;
            e.name = file;
            e.source = fs::absolute(path).string();
            e.copy_ms = steady_ms() - c0;
            if (const auto ok = integrity(dest); ok != "ok")
                throw std::runtime_error(fmt::format("the copy of {} fails its integrity check: {}", path, ok));
            e.bytes = static_cast<std::int64_t>(fs::file_size(dest));
            e.sha256 = crypto::sha256_file_hex(dest);
            e.schema_version = schema_version_of(dest);
            // Opening it read-only leaves no journal behind; the copy stays one file.
            m.files.push_back(std::move(e));
        }
        files::write_private_file_atomically((partial / kManifestFile).string(), to_json(m));
        fs::rename(partial, final_dir);
        fsync_path(out.string());
    } catch (...) {
        std::error_code ec;
        fs::remove_all(partial, ec);
        throw;
    }
    for (const auto& f : m.files)
        std::cout << fmt::format("{} {} {} bytes, schema version {}, sha256 {}, copied in {} ms\n", f.role,
                                 (final_dir / f.name).string(), f.bytes, f.schema_version, f.sha256, f.copy_ms);
    std::cout << fmt::format("backup: {} ({} ms)\n", final_dir.string(), steady_ms() - t0);
    if (keep > 0) {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(out))
            if (e.is_directory())
                names.push_back(e.path().filename().string());
        for (const auto& old : to_prune(names, static_cast<std::size_t>(keep))) {
            fs::remove_all(out / old);
            std::cout << fmt::format("pruned {}\n", (out / old).string());
        }
    }
    return 0;
}

int cmd_restore(const Config& cfg, const Args& a) {
    if (a.words.size() != 1)
        throw ConfigError("usage: restore --from DIR/<timestamp> --data-dir NEW [--force]");
    const fs::path from = a.require("from");
    const fs::path to = a.require("data-dir");
    const bool force = a.has("force");
    const auto t0 = steady_ms();
    std::string why;
    const auto m = parse_manifest(read_text(from / kManifestFile), &why);
    if (!m) {
        std::cerr << fmt::format("pilehubctl: {} is not a backup: {}\n", from.string(), why);
        return 1;
    }
    // Everything is checked before anything is written.
    bool has_core = false;
    for (const auto& f : m->files) {
        has_core = has_core || f.role == "core";
        const auto p = from / f.name;
        std::error_code ec;
        const auto size = fs::file_size(p, ec);
        if (ec) {
            std::cerr << fmt::format("pilehubctl: {} is missing\n", p.string());
            return 1;
        }
        if (static_cast<std::int64_t>(size) != f.bytes || crypto::sha256_file_hex(p.string()) != f.sha256) {
            std::cerr << fmt::format("pilehubctl: {} does not match the manifest (size or sha256): refusing it\n",
                                     p.string());
            return 1;
        }
        if (const auto ok = integrity(p.string()); ok != "ok") {
            std::cerr << fmt::format("pilehubctl: {} fails its integrity check: {}\n", p.string(), ok);
            return 1;
        }
    }
    if (!has_core) {
        std::cerr << fmt::format("pilehubctl: {} holds no core database\n", from.string());
        return 1;
    }
    fs::create_directories(to);
    for (const auto& f : m->files)
        for (const auto* suffix : {"", "-wal", "-shm", "-journal"})
            if (const auto target = to / (f.name + suffix); fs::exists(target)) {
                if (!force) {
                    std::cerr << fmt::format(
                        "pilehubctl: {} exists: restore goes into a fresh directory (--force replaces it)\n",
                        target.string());
                    return 1;
                }
                fs::remove(target);
            }
    for (const auto& f : m->files) {
        const auto target = to / f.name;
        const auto tmp = to / ("." + f.name + ".restoring");
        fs::remove(tmp);
        create_private(tmp.string());
        fs::copy_file(from / f.name, tmp, fs::copy_options::overwrite_existing);
        fsync_path(tmp.string());
        fs::rename(tmp, target);
        std::cout << fmt::format("restored {} ({} bytes, schema version {})\n", target.string(), f.bytes,
                                 f.schema_version);
    }
    fsync_path(to.string());
    db::Database core((to / kCoreFile).string());
    const auto violations = ledger::audit(core);
    for (const auto& v : violations)
        std::cout << "violation: " << v.what << "\n";
    std::cout << fmt::format("restore: {} from backup {} in {} ms; audit: {}\n", to.string(), m->created_at,
                             steady_ms() - t0,
                             violations.empty() ? "OK" : fmt::format("{} violation(s)", violations.size()));
    (void)cfg;
    return violations.empty() ? 0 : 1;
}

} // namespace pilehub::ctl
