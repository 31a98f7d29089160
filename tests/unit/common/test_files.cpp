#include "common/files.hpp"
#include "tests/unit/ledger/ledger_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace pilehub;

namespace {

/// A private temporary directory for one test, removed at the end.
struct Dir : pilehub::test::TempDir {
    using TempDir::TempDir;
    /// Names in the directory (temporary files left behind would show here).
    std::set<std::string> names() const {
        std::set<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(path()))
            out.insert(e.path().filename().string());
        return out;
    }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

/// Runs `f` with the process umask set to `mask`, restoring it afterwards.
template <typename F> void with_umask(mode_t mask, F f) {
    const auto old = ::umask(mask);
    try {
        f();
    } catch (...) {
        ::umask(old);
        throw;
    }
    ::umask(old);
}

} // namespace

TEST_CASE("files: a private file is 0600 whatever the umask, and replaces what was there") {
    Dir d("mode");
    for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
        const auto path = d.file(fmt::format("secret-{:o}", mask));
        with_umask(mask, [&] { files::write_private_file_atomically(path, "first\n"); });
        CHECK(slurp(path) == "first\n");
        CHECK_MESSAGE(mode_of(path) == 0600, "umask " << mask);
    }
    // A world-readable file at the path is replaced by a private one.
    const auto path = d.file("was-public");
    std::ofstream(path) << "old";
    ::chmod(path.c_str(), 0644);
    files::write_private_file_atomically(path, "new");
    CHECK(slurp(path) == "new");
    CHECK(mode_of(path) == 0600);
    // Missing parents are created; nothing but the files themselves is left behind.
    files::write_private_file_atomically(d.file("sub/dir/f"), "x");
    CHECK(slurp(d.file("sub/dir/f")) == "x");
    CHECK(d.names() == std::set<std::string>{"secret-0", "secret-22", "secret-77", "was-public", "sub"});
}

TEST_CASE("files: writers on several threads never mix their contents") {
    Dir d("threads");
    const auto path = d.file("passwd");
    constexpr int kThreads = 8, kWrites = 25;
    // Large, distinct contents: an interleaved or truncated write could not pass for one of them.
    auto content = [](int t, int i) { return std::string(64 * 1024 + t * 131 + i, static_cast<char>('a' + t)); };
    std::set<std::string> written;
    for (int t = 0; t < kThreads; ++t)
        for (int i = 0; i < kWrites; ++i)
            written.insert(content(t, i));
    files::write_private_file_atomically(path, content(0, 0));
    std::atomic<int> failures{0}, done{0}, bad_reads{0}, reads{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kWrites; ++i) {
                try {
                    files::write_private_file_atomically(path, content(t, i));
                } catch (const std::exception&) {
                    ++failures;
                }
            }
            ++done;
        });
    std::thread reader([&] {
        while (done.load() < kThreads) {
            const auto now = slurp(path);
            ++reads;
            if (!written.count(now))
                ++bad_reads;
        }
    });
    for (auto& t : threads)
        t.join();
    reader.join();
    CHECK(failures.load() == 0);
    CHECK(bad_reads.load() == 0);
    CHECK(reads.load() > 0);
    CHECK(written.count(slurp(path)) == 1);
    CHECK(mode_of(path) == 0600);
    CHECK(d.names() == std::set<std::string>{"passwd"}); // no temporary file left behind
}

TEST_CASE("files: a symlink planted at the temporary path is never followed") {
    Dir d("symlink");
    const auto victim = d.file("victim");
    std::ofstream(victim) << "untouched";
    const auto path = d.file("fleet.json");
    // At the exact temporary name: the write is refused and the link's target is not touched.
    const auto temp = d.file("planted");
    std::filesystem::create_symlink(victim, temp);
    CHECK_THROWS(files::write_private_file_via(temp, path, "secret"));
    CHECK(slurp(victim) == "untouched");
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK(std::filesystem::is_symlink(temp)); // what was planted is not ours to remove
    // At the predictable names the old writers used (`<path>.tmp`, `<path>.tmp.<pid>`): never used.
    std::filesystem::create_symlink(victim, path + ".tmp");
    std::filesystem::create_symlink(victim, path + ".tmp." + std::to_string(::getpid()));
    files::write_private_file_atomically(path, "secret");
    CHECK(slurp(path) == "secret");
    CHECK(slurp(victim) == "untouched");
    CHECK(mode_of(path) == 0600);
}

TEST_CASE("files: a private directory is 0700, also one that existed with wider rights") {
    Dir d("dir");
    const auto fresh = d.file("secrets");
    with_umask(0, [&] { files::ensure_private_directory(fresh); });
    CHECK(mode_of(fresh) == 0700);
    const auto open = d.file("open");
    std::filesystem::create_directories(open);
    ::chmod(open.c_str(), 0755);
    files::ensure_private_directory(open);
    CHECK(mode_of(open) == 0700);
    std::ofstream(d.file("plain")) << "x";
    CHECK_THROWS(files::ensure_private_directory(d.file("plain")));
}

TEST_CASE("files: a secret is created once, complete and private; concurrent creators agree on it") {
    Dir d("secret");
    const auto path = d.file("keys/sandbox.key");
    int made = 0;
    const auto s1 = files::load_or_create_secret(path, [&] {
        ++made;
        return std::string("first-secret");
    });
    CHECK(s1 == "first-secret");
    CHECK(mode_of(path) == 0600);
    CHECK(files::load_or_create_secret(path, [&] {
              ++made;
              return std::string("second");
          }) == "first-secret");
    CHECK(made == 1);

    const auto shared = d.file("shared.key");
    constexpr int kThreads = 8;
    std::vector<std::string> got(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            got[t] = files::load_or_create_secret(shared, [t] { return "secret-of-" + std::to_string(t); });
        });
    for (auto& t : threads)
        t.join();
    for (const auto& g : got)
        CHECK(g == got[0]);
    CHECK(slurp(shared) == got[0] + "\n");
    CHECK(d.names() == std::set<std::string>{"keys", "shared.key"});
}
