#pragma once
// `pilehub-bench api`: the API half of benchmark #3 (docs/benchmarks.md). The real pilehub-api in
// front of the real daemons and pilehub-sim piles: the rider's start-session round trip (POST →
// start_port at the pile → reply → session `charging`) and wrk on two read endpoints.
#include <string>

namespace pilehub::bench {

/// What `pilehub-bench api` is told on its command line.
struct ApiBenchOptions {
    std::string bin_dir = "build"; ///< daemons in <bin_dir>/workers/<name>/<name>, the API in <bin_dir>/web-api
    int wrk_s = 15;                ///< seconds of wrk per read endpoint
    int wrk_c = 32;                ///< wrk connections (the bare baseline in scripts/bench uses 32)
    int starts = 200;              ///< timed start round trips (each its own rider and socket)
    int warmup = 5;                ///< untimed starts before them
    int gap_ms = 20;               ///< pause between two starts
};

/// Runs the benchmark; prints `RESULT {json}` lines (api_start, api_read ×2) on stdout, progress
/// on stderr. Returns the exit code; throws std::runtime_error if the stack cannot be set up.
int run_api_bench(const ApiBenchOptions& o);

} // namespace pilehub::bench
