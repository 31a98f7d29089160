#pragma once
// `pilehub-bench parking` (docs/benchmarks.md, figure 7, issue 12): N cameras with 4 spaces each
// (every space with a ground lock) connected to the broker as their own users; green (NEV)
// plates arrive at free spaces at a paced rate; the time from the camera's `evt/plate in` to
// parkingd's `cmd/lock lower` for that space arriving at a `svc.monitor` subscriber, against the
// bare broker round trip of the same `evt/plate` at the same rate (no parkingd) in the same run.
#include <string>

namespace pilehub::bench {

/// What `pilehub-bench parking` is told on its command line.
struct ParkingBenchOptions {
    std::string bin_dir = "build"; ///< <bin_dir>/workers/parkingd/parkingd
    int cameras = 1000;            ///< cameras connected, 4 spaces each
    int window_s = 60;             ///< the paced window of arrivals with parkingd
    int bare_s = 20;               ///< the bare round trip's window (same rate, same messages)
    double rate = 50;              ///< plate arrivals per second across the fleet
    int stay_s = 5;                ///< each car leaves (`evt/plate out`) this long after its arrival
    int lost_after_s = 5;          ///< an arrival without its cmd/lock this long after is lost
};

/// Runs the benchmark; prints `RESULT {json}` lines (`parking_bare`, `parking`) on stdout, progress
/// on stderr. Returns 0 when every arrival got its lock command, else 1; throws
/// std::runtime_error if the stack cannot be set up.
int run_parking_bench(const ParkingBenchOptions& o);

} // namespace pilehub::bench
