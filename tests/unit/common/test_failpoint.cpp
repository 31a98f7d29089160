#include "common/failpoint.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>

using namespace pilehub;
using failpoint::Spec;

TEST_CASE("fail points: PILEHUB_FAILPOINT is `name` or `name@N` with N >= 1") {
    struct Row {
        std::string text;
        std::optional<Spec> want;
    };
    const Row rows[] = {
        {"sessiond.after_commit", Spec{"sessiond.after_commit", 1}},
        {"sessiond.after_commit@1", Spec{"sessiond.after_commit", 1}},
        {"billingd.after_settle_commit@17", Spec{"billingd.after_settle_commit", 17}},
        {"a@b@3", Spec{"a@b", 3}}, // the count is after the last '@'
        {"", std::nullopt},
        {"@3", std::nullopt},
        {"x@", std::nullopt},
        {"x@0", std::nullopt},
        {"x@-2", std::nullopt},
        {"x@+2", std::nullopt},
        {"x@2a", std::nullopt},
        {"x@ 2", std::nullopt},
        {"x@99999999999999999999999", std::nullopt},
        {"x y", std::nullopt},
        {"x,y", std::nullopt},
    };
    for (const auto& r : rows) {
        CAPTURE(r.text);
        CHECK(failpoint::parse(r.text) == r.want);
    }
}

TEST_CASE("fail points: only the named point fires, and only at its N-th hit") {
    const std::optional<Spec> third = Spec{"p", 3};
    CHECK_FALSE(failpoint::fires(third, "p", 1));
    CHECK_FALSE(failpoint::fires(third, "p", 2));
    CHECK(failpoint::fires(third, "p", 3));
    CHECK_FALSE(failpoint::fires(third, "p", 4));
    CHECK_FALSE(failpoint::fires(third, "q", 3));
    CHECK_FALSE(failpoint::fires(third, "pp", 3));
    CHECK_FALSE(failpoint::fires(std::nullopt, "p", 1));
}

namespace {

/// Runs `hits` fail points in a child process with PILEHUB_FAILPOINT=`env` (nullptr: unset); the
/// child exits 0 when it survives them all. Returns the raw wait status.
int child_status(const char* env, const char* const* hits) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (env)
            ::setenv("PILEHUB_FAILPOINT", env, 1);
        else
            ::unsetenv("PILEHUB_FAILPOINT");
        for (auto h = hits; *h; ++h)
            failpoint::hit(*h);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return status;
}

bool killed(int status) {
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

} // namespace

TEST_CASE("fail points: hit() raises SIGKILL at the named hit and is inert otherwise") {
    const char* const two_a[] = {"b", "a", "b", "a", nullptr};
    const char* const one_a[] = {"b", "a", "b", nullptr};
    CHECK(killed(child_status("a@2", two_a)));
    CHECK(killed(child_status("a", one_a)));
    CHECK(killed(child_status("b", one_a)));
    const auto survived = [](int st) { return WIFEXITED(st) && WEXITSTATUS(st) == 0; };
    CHECK(survived(child_status("a@2", one_a))); // only one hit of a
    CHECK(survived(child_status("a@3", two_a)));
    CHECK(survived(child_status("c", two_a)));
    CHECK(survived(child_status("a@0", two_a))); // malformed: never fires
    CHECK(survived(child_status(nullptr, two_a)));
}
