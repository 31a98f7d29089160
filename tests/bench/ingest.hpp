#pragma once
// `pilehub-bench ingest`: benchmark #1 (docs/benchmarks.md). In one run: the platform's ingest
// rate with every platform process running, the broker's delivery to one bare Paho subscriber,
// and to as many bare Paho subscribers as the platform has raw-telemetry consumers (found from
// the broker's subscription log, not from a list), plus what the load generator offers when
// nothing subscribes.
#include <string>
#include <vector>

namespace pilehub::bench {

/// What `pilehub-bench ingest` is told on its command line.
struct IngestOptions {
    std::string bin_dir = "build"; ///< daemons in <bin_dir>/workers/<name>/<name>, the API in <bin_dir>/web-api
    std::vector<double> platform_rates{2000, 4000, 8000, 16000}; ///< the platform ramp (msg/s)
    std::vector<double> bare_rates{8000, 16000, 32000, 64000};   ///< the bare ramps and the generator's
    int refine = 2;        ///< halvings between the last rate kept up and the first not
    int step_s = 6;        ///< seconds of load per step
    int devices = 8;       ///< blaster devices (one MQTT connection each)
    int blast_threads = 1; ///< threads of the blaster
    int charging = 0;      ///< sockets charging a seeded session on every blaster device (0..10; 0: an idle fleet)
    bool api = true;       ///< run pilehub-api as well (a platform process; it reads stored samples, not raw telemetry)
    bool calibrate = true; ///< measure the generator alone (nothing subscribed)
    bool platform = true;  ///< the platform ramp (false: the bare ones only, with `consumers`)
    int consumers = 0;     ///< with platform = false: the K of the K-subscriber baseline
};

/// One bare subscriber as its own process (`pilehub-bench subscriber`, started by the ingest
/// benchmark): subscribes to raw telemetry as `user` and counts into the SharedCounter at
/// `counter_path` until SIGTERM.
struct BareSubscriberOptions {
    int port = 0;
    std::string user;
    std::string password_file;
    std::string counter_path;
};
int run_bare_subscriber(const BareSubscriberOptions& o);

/// Runs the benchmark; prints `RESULT {json}` lines on stdout (ingest_consumers, ingest_step per
/// step, ingest_blaster, ingest_gaps, ingest), progress on stderr. Returns the exit code.
int run_ingest_bench(const IngestOptions& o);

} // namespace pilehub::bench
