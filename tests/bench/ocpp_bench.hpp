#pragma once
// `pilehub-bench ocpp` (docs/benchmarks.md, "OCPP gateway", issue 11): N simulated OCPP 1.6-J charge
// points (ocpp_load.hpp) against the bare Beast echo server (`pilehub-bench ocpp-echo`, a child)
// and then against pilehub-ocpp in front of the whole platform, in one run: per-message CPU of each,
// the gateway's RSS, and the remote-start round trip through the real API.
#include <string>

namespace pilehub::bench {

/// What `pilehub-bench ocpp` is told on its command line.
struct OcppBenchOptions {
    std::string bin_dir = "build"; ///< daemons, pilehub-api, pilehub-ocpp (<bin_dir>/gateway/pilehub-ocpp)
    std::string self;              ///< this program, started again as `ocpp-echo`
    int chargers = 1000;           ///< simulated charge points (one WebSocket each)
    int window_s = 60;             ///< the measured window of paced MeterValues (echo and platform alike)
    int idle_s = 10;               ///< all connected, no MeterValues: the fixed cost, before the window
    int meter_period_s = 10;       ///< MeterValues period of every charge point
    int saturate_s = 10;           ///< back-to-back MeterValues after the window (0: none)
    int starts = 200;              ///< remote starts (distinct charge points, one rider each) in the window
    double start_rate = 10;        ///< starts per second
    double connect_rate = 200;     ///< new WebSocket connections per second while connecting
    bool echo = true;              ///< the bare baseline
    bool platform = true;          ///< the platform
    std::string perf_out;          ///< if set: `perf record -g` of pilehub-ocpp over the window and saturation
};

/// Runs the benchmark; prints `RESULT {json}` lines (ocpp_echo, ocpp_gateway, ocpp_proc, ocpp_start)
/// on stdout, progress on stderr. Returns the exit code; throws std::runtime_error if a stack
/// cannot be set up.
int run_ocpp_bench(const OcppBenchOptions& o);

} // namespace pilehub::bench
