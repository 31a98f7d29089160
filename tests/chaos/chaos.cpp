#include "tests/chaos/chaos.hpp"

#include "common/json.hpp"
#include "tests/support/process.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

namespace pilehub::chaos {

bool full() {
    const char* s = std::getenv("PILEHUB_CHAOS_SCALE");
    return s && std::string(s) == "full";
}

int scaled(int quick_n, int full_n) {
    return full() ? full_n : quick_n;
}

bool report(const Figure& f) {
    static std::mutex m;
    std::lock_guard lock(m);
    std::cout << fmt::format("FIGURE | {} | {} | {} | {}\n", f.test, f.figure, f.bar, f.pass ? "PASS" : "FAIL")
              << std::flush;
    if (const char* path = std::getenv("PILEHUB_CHAOS_FIGURES"); path && *path) {
        json::Writer w;
        w.begin_object()
            .field("test", f.test)
            .field("figure", f.figure)
            .field("bar", f.bar)
            .field("pass", f.pass)
            .field("scale", full() ? "full" : "quick")
            .end_object();
        std::ofstream(path, std::ios::app) << w.str() << "\n";
    }
    return f.pass;
}

Audit audit(const std::string& db_path) {
    const std::string ctl = std::string(PILEHUB_BINARY_DIR) + "/workers/pilehubctl/pilehubctl";
    const auto r = test::run({ctl, "--set", "db.path=" + db_path, "audit"}, std::chrono::seconds(120));
    Audit a;
    a.exit_code = r.exit_code;
    a.output = r.output;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
        a.violations += line.rfind("violation:", 0) == 0;
    return a;
}

} // namespace pilehub::chaos
