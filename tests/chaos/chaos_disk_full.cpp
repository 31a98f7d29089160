// A full disk (issue 16, REVIEW-reliability §2.13 and risk #7): the whole data directory (broker,
// databases, logs, run files) lives on a small tmpfs that the test fills to the last byte while
// sessions run. /health must turn 503 (disk check, and the write probe when SQLite cannot write);
// riders' stops and the piles' own records keep arriving; no money operation may half-apply and
// nothing acknowledged may be lost (the piles resend their records until stored). When space is
// freed everything resumes by itself (workers that gave up are restarted, as systemd would) and the
// ledger audit is clean. Figures: operations lost, /health detection time, time to recover.
// Needs to mount a tmpfs: as root directly; otherwise the test runs itself again under
// `unshare -rm` (a user and mount namespace where it may), and the tmpfs is unmounted at the end.
#include "tests/chaos/ops_stack.hpp"

#include <sys/mount.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

using namespace pilehub;
using namespace pilehub::chaos;

namespace {

/// Writes `path` in 1 MiB pieces until the file system refuses (ENOSPC); the bytes written.
std::int64_t fill(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE_MESSAGE(fd >= 0, "cannot create " << path << ": " << std::strerror(errno));
    const std::string chunk(1 << 20, 'x');
    std::int64_t total = 0;
    for (std::size_t piece = chunk.size(); piece > 0;) {
        const auto n = ::write(fd, chunk.data(), piece);
        if (n > 0)
            total += n;
        else
            piece /= 2; // the last pages, to the last byte
    }
    ::close(fd);
    return total;
}

void scenario(const std::string& mnt) {
    const int sessions = scaled(6, 40);                                 // running when the disk fills
    const int during = scaled(4, 20);                                   // starts tried while it is full
    const auto sim_dir = test::make_temp_dir("pilehub-chaos-disk-sim"); // the piles' memory: not on the tmpfs
    ops::Options o;
    o.piles = (sessions + during + 9) / 10;
    o.sim_dir = sim_dir;
    o.api_sets = {"pilehub-api.health.min_free_mb=8", "pilehub-api.health.write_timeout_ms=300"};
    // The broker's data directory (which the API and workers share) is made under TMPDIR.
    const char* old_tmp = std::getenv("TMPDIR");
    const std::string saved = old_tmp ? old_tmp : "";
    ::setenv("TMPDIR", mnt.c_str(), 1);
    std::optional<ops::World> world;
    try {
        world.emplace(o);
    } catch (...) {
        old_tmp ? ::setenv("TMPDIR", saved.c_str(), 1) : ::unsetenv("TMPDIR");
        throw;
    }
    old_tmp ? ::setenv("TMPDIR", saved.c_str(), 1) : ::unsetenv("TMPDIR");
    auto& w = *world;
    REQUIRE(w.stack().dir().rfind(mnt, 0) == 0);
    const auto filler = w.stack().dir() + "/filler";
    std::int64_t filled = 0;
    ops::Fault f;
    f.name = "disk full (tmpfs data directory)";
    f.held = "while the disk was full";
    f.hold_s = scaled(4, 20);
    f.on = [&] { filled = fill(filler); };
    f.off = [&] { std::filesystem::remove(filler); };
    f.check_health = [](const ops::Http& h) {
        CHECK_FALSE(h.boolean("checks.disk.ok"));
        CHECK(h.i64("checks.disk.free_mb") < 8);
    };
    ops::run(w, sessions, during, f);
    MESSAGE("the filler took " << (filled >> 20) << " MiB");
    world.reset();
    std::error_code ec;
    std::filesystem::remove_all(sim_dir, ec);
}

} // namespace

TEST_CASE("chaos: the data directory fills up while sessions run; /health turns 503, nothing acknowledged is lost, "
          "everything resumes when space is freed") {
    const auto mnt = test::make_temp_dir("pilehub-chaos-tmpfs");
    const auto size = fmt::format("size={}m,mode=0700", scaled(64, 128));
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, size.c_str()) != 0) {
        const int err = errno;
        std::filesystem::remove(mnt);
        REQUIRE_MESSAGE((err == EPERM && !std::getenv("PILEHUB_CHAOS_IN_USERNS")),
                        "cannot mount a tmpfs: " << std::strerror(err));
        // Not root: again in a user and mount namespace of our own, where mounting a tmpfs is allowed.
        const auto self = std::filesystem::read_symlink("/proc/self/exe").string();
        const auto r = test::run({"unshare", "-rm", self}, std::chrono::minutes(30), {"PILEHUB_CHAOS_IN_USERNS=1"});
        MESSAGE(r.output);
        CHECK(r.exit_code == 0);
        return;
    }
    try {
        scenario(mnt);
    } catch (...) {
        ::umount2(mnt.c_str(), MNT_DETACH);
        std::filesystem::remove(mnt);
        throw;
    }
    CHECK(::umount(mnt.c_str()) == 0);
    std::filesystem::remove(mnt);
}
