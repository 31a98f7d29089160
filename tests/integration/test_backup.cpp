// pilehubctl backup / restore / migrate --check as an administrator runs them (the built pilehubctl
// and billingd, on real SQLite files): a backup taken while money moves is consistent and blocks no
// writer for long; restore refuses a damaged backup and an existing target; an old database is
// migrated forward and a newer one is refused.
#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

using namespace pilehub;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kCtl = std::string(PILEHUB_BINARY_DIR) + "/workers/pilehubctl/pilehubctl";

/// A data directory of its own, removed at the end.
struct Dir {
    std::string path = test::make_temp_dir("pilehub-backup");
    ~Dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

test::RunResult ctl(const std::string& data_dir, std::vector<std::string> args) {
    std::vector<std::string> argv{kCtl, "--set", "data_dir=" + data_dir};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv, 60s);
}

/// The backup directories in `out`, oldest first.
std::vector<std::string> backups(const std::string& out) {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(out))
        if (e.is_directory() && e.path().filename().string()[0] != '.')
            v.push_back(e.path().string());
    std::sort(v.begin(), v.end());
    return v;
}

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

/// A data directory with both databases at the current schema, and `n` funded accounts.
std::vector<std::int64_t> seed(const std::string& dir, int n) {
    REQUIRE(ctl(dir, {"migrate"}).exit_code == 0);
    db::Database::Options o;
    o.sync = db::Sync::Full;
    db::Database d(dir + "/pilehub.db", o);
    ledger::Ledger l(d);
    std::vector<std::int64_t> ids;
    for (int i = 0; i < n; ++i) {
        const auto a = l.open_account({fmt::format("1380000{:04}", i), "", std::nullopt}).account_id;
        ledger::Credit c;
        c.account_id = a;
        c.real_fen = Fen(100000);
        c.meta.idempotency_key = fmt::format("seed:{}", i);
        REQUIRE(l.credit(c).ok());
        ids.push_back(a);
    }
    return ids;
}

void flip_a_byte(const std::string& path, std::streamoff at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(at);
    f.write(&c, 1);
}

} // namespace

TEST_CASE("backup: taken while money moves, every copy is whole, consistent and private, and writers go on") {
    Dir dir;
    const auto accounts = seed(dir.path, 8);
    const auto out = dir.path + "/backups";
    // A writer moving money (recharges and debits, each a ledger row with its wallet update) and
    // appending telemetry, flat out, for the whole test; the longest write is measured.
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> writes{0}, longest_ms{0}, refused{0};
    std::thread writer([&] {
        db::Database::Options o;
        o.sync = db::Sync::Full;
        db::Database d(dir.path + "/pilehub.db", o);
        db::Database t(dir.path + "/telemetry.db");
        ledger::Ledger l(d);
        for (std::int64_t i = 0; !stop; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            const auto account = accounts[static_cast<std::size_t>(i) % accounts.size()];
            if (i % 2 == 0) {
                ledger::Credit c;
                c.account_id = account;
                c.real_fen = Fen(7);
                c.meta.idempotency_key = fmt::format("w:{}", i);
                refused += !l.credit(c).ok();
            } else {
                ledger::Debit spend;
                spend.account_id = account;
                spend.amount_fen = Fen(5);
                spend.meta.idempotency_key = fmt::format("w:{}", i);
                spend.meta.ref = fmt::format("s{}", i);
                refused += !l.debit(spend).ok();
            }
            db::Statement(t, "INSERT INTO device_samples (device_id, t, total_power_w) VALUES ('P1', ?1, 100)")
                .bind(1, i)
                .run();
            const auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
            longest_ms = std::max<std::int64_t>(longest_ms, ms);
            ++writes;
        }
    });
    std::this_thread::sleep_for(200ms);
    std::vector<std::int64_t> before;
    for (int k = 0; k < 3; ++k) {
        before.push_back(writes);
        // Small steps, so that each backup spans many writes.
        const auto r = ctl(dir.path, {"backup", "--out", out, "--pages-per-step", "4"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.output);
        std::this_thread::sleep_for(100ms);
    }
    stop = true;
    writer.join();
    MESSAGE(writes.load() << " writes during the backups; the longest took " << longest_ms.load() << " ms");
    CHECK(refused == 0);
    CHECK(longest_ms < 2000); // the busy timeout is 5 s: a backup holding the write lock would show here

    const auto all = backups(out);
    REQUIRE(all.size() == 3);
    CHECK(mode_of(out) == 0700);
    std::int64_t last_rows = 0;
    for (std::size_t k = 0; k < all.size(); ++k) {
        const auto& b = all[k];
        CAPTURE(b);
        CHECK(mode_of(b) == 0700);
        for (const auto* f : {"pilehub.db", "telemetry.db", "manifest.json"})
            CHECK(mode_of(b + "/" + f) == 0600);
        // One self-contained file each: no journal beside it.
        CHECK_FALSE(fs::exists(b + "/pilehub.db-wal"));
        const auto manifest = test::slurp(b + "/manifest.json");
        CHECK(manifest.find(crypto::sha256_file_hex(b + "/pilehub.db")) != std::string::npos);
        CHECK(manifest.find(crypto::sha256_file_hex(b + "/telemetry.db")) != std::string::npos);
        CHECK(manifest.find(fmt::format(R"("schema_version":{})", db::core_migrations().size())) != std::string::npos);
        // Consistent: every wallet equals its ledger (the audit), and the copy holds at least what was
        // committed when the backup started.
        const auto audit = test::run({kCtl, "--set", "db.path=" + b + "/pilehub.db", "audit"});
        CHECK_MESSAGE(audit.exit_code == 0, audit.output);
        db::Database::Options ro;
        ro.read_only = true;
        db::Database copy(b + "/pilehub.db", ro);
        const auto rows = test::count(copy, "SELECT count(*) FROM ledger WHERE idempotency_key LIKE 'w:%'");
        CHECK(rows >= before[k]);
        CHECK(rows >= last_rows);
        last_rows = rows;
    }
}

TEST_CASE("restore: refuses a corrupted file, a missing file and an existing target; restores a whole backup") {
    Dir dir;
    seed(dir.path, 3);
    const auto out = dir.path + "/backups";
    REQUIRE(ctl(dir.path, {"backup", "--out", out}).exit_code == 0);
    const auto good = backups(out).at(0);
    const auto target = dir.path + "/restored";

    SUBCASE("a whole backup is restored, audited, and then refused over itself unless --force") {
        auto r = ctl(dir.path, {"restore", "--from", good, "--data-dir", target});
        REQUIRE_MESSAGE(r.exit_code == 0, r.output);
        CHECK(r.output.find("audit: OK") != std::string::npos);
        {
            // The same rows (the file itself differs: opened for the audit, it is in WAL mode again).
            db::Database::Options ro;
            ro.read_only = true; // the backup stays as it is
            db::Database restored(target + "/pilehub.db"), copy(good + "/pilehub.db", ro);
            const auto rows = "SELECT count(*) || ':' || sum(real_fen) FROM ledger";
            db::Statement a(restored, rows), b(copy, rows);
            REQUIRE((a.step() && b.step()));
            CHECK(a.text(0) == b.text(0));
            CHECK(a.text(0).rfind("3:", 0) == 0);
        }
        CHECK(mode_of(target + "/pilehub.db") == 0600);
        // The restored data serves: the migrations find it current, the audit finds it whole.
        CHECK(test::run({kCtl, "--set", "data_dir=" + target, "migrate", "--check"}).exit_code == 0);
        r = ctl(dir.path, {"restore", "--from", good, "--data-dir", target});
        CHECK(r.exit_code == 1);
        CHECK(r.output.find("exists") != std::string::npos);
        r = ctl(dir.path, {"restore", "--from", good, "--data-dir", target, "--force"});
        CHECK_MESSAGE(r.exit_code == 0, r.output);
    }
    SUBCASE("a file whose bytes changed is refused, and nothing is written") {
        flip_a_byte(good + "/pilehub.db", 5000);
        const auto r = ctl(dir.path, {"restore", "--from", good, "--data-dir", target});
        CHECK(r.exit_code == 1);
        CHECK(r.output.find("does not match the manifest") != std::string::npos);
        CHECK_FALSE(fs::exists(target + "/pilehub.db"));
    }
    SUBCASE("a missing file is refused") {
        fs::remove(good + "/telemetry.db");
        const auto r = ctl(dir.path, {"restore", "--from", good, "--data-dir", target});
        CHECK(r.exit_code == 1);
        CHECK(r.output.find("missing") != std::string::npos);
        CHECK_FALSE(fs::exists(target + "/pilehub.db"));
    }
    SUBCASE("a directory without a manifest is refused") {
        fs::remove(good + "/manifest.json");
        const auto r = ctl(dir.path, {"restore", "--from", good, "--data-dir", target});
        CHECK(r.exit_code == 1);
        CHECK(r.output.find("is not a backup") != std::string::npos);
    }
}

TEST_CASE("backup --keep N: leaves the newest N backups and anything else in the directory") {
    Dir dir;
    seed(dir.path, 1);
    const auto out = dir.path + "/backups";
    fs::create_directories(out + "/notes");
    for (int i = 0; i < 4; ++i) {
        const auto r = ctl(dir.path, {"backup", "--out", out, "--keep", "2"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.output);
        std::this_thread::sleep_for(5ms); // names carry milliseconds
    }
    const auto left = backups(out);
    REQUIRE(left.size() == 3); // two backups and notes/
    CHECK(fs::exists(out + "/notes"));
}

TEST_CASE("migrate: an old database migrates forward on a daemon's start; a newer one is refused") {
    Dir dir;
    const auto all = db::core_migrations();
    const int old_version = static_cast<int>(all.size()) - 3;
    std::int64_t account = 0;
    {
        // The database as a build three migrations older left it, with money in it.
        db::Database::Options o;
        o.sync = db::Sync::Full;
        db::Database d(dir.path + "/pilehub.db", o);
        db::migrate(d, std::vector<db::Migration>(all.begin(), all.begin() + old_version));
        ledger::Ledger l(d);
        account = l.open_account({"13900000001", "", std::nullopt}).account_id;
        ledger::Credit c;
        c.account_id = account;
        c.real_fen = Fen(1234);
        c.meta.idempotency_key = "old:1";
        REQUIRE(l.credit(c).ok());
    }
    auto r = ctl(dir.path, {"migrate", "--check"});
    CHECK(r.exit_code == 1);
    CHECK(r.output.find(fmt::format("schema version {}", old_version)) != std::string::npos);
    CHECK(r.output.find("pending " + all.back().name) != std::string::npos);

    SUBCASE("billingd migrates it forward when it starts; the money is still there") {
        test::Broker broker;
        test::Daemon billingd("billingd", broker, dir.path);
        billingd.start();
        billingd.stop();
        r = ctl(dir.path, {"migrate", "--check"});
        CHECK_MESSAGE(r.exit_code == 0, r.output);
        db::Database d(dir.path + "/pilehub.db");
        CHECK(d.user_version() == static_cast<int>(all.size()));
        CHECK(test::count(d, fmt::format("SELECT balance_fen FROM wallets WHERE account_id = {}", account)) == 1234);
        CHECK(test::run({kCtl, "--set", "db.path=" + dir.path + "/pilehub.db", "audit"}).exit_code == 0);
    }
    SUBCASE("a database newer than the build: migrate --check exits 2, the daemon refuses to start and says why") {
        REQUIRE(ctl(dir.path, {"migrate"}).exit_code == 0);
        db::Database(dir.path + "/pilehub.db").exec(fmt::format("PRAGMA user_version={}", all.size() + 1));
        r = ctl(dir.path, {"migrate", "--check"});
        CHECK(r.exit_code == 2);
        CHECK(r.output.find("NEWER than this build") != std::string::npos);
        CHECK(ctl(dir.path, {"migrate"}).exit_code == 1);
        // No broker is needed to be refused: the schema is checked first.
        const auto d =
            test::run({test::Daemon::binary("billingd"), "--set", "data_dir=" + dir.path, "--set", "mqtt.port=1"}, 20s);
        CHECK(d.exit_code == 1);
        CHECK_MESSAGE(d.output.find("newer than this build knows") != std::string::npos, d.output);
        CHECK(d.output.find("refusing to run") != std::string::npos);
        db::Database check(dir.path + "/pilehub.db");
        CHECK(check.user_version() == static_cast<int>(all.size()) + 1); // untouched
    }
}
