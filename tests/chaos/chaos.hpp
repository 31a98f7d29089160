#pragma once
// The chaos suite's shared parts (tests/chaos/README.md): the scale a scenario runs at (quick in CI,
// full for docs/reliability.md), its figure (printed and appended to the figures file scripts/chaos
// turns into the report), and the ledger checker run the way an administrator runs it.
#include <string>

namespace pilehub::chaos {

/// PILEHUB_CHAOS_SCALE=full runs each scenario at the size of REVIEW-reliability §1; anything else
/// (the default, `scripts/chaos --quick`) at the size CI affords.
bool full();
/// `quick_n` in a quick run, `full_n` in a full one.
int scaled(int quick_n, int full_n);

/// One scenario's result: `test` is its row of the target table ("#1 broker kill -9 loop"),
/// `figure` what was measured, `bar` the pass bar, `pass` whether the figure meets the bar.
struct Figure {
    std::string test;
    std::string figure;
    std::string bar;
    bool pass = false;
};

/// Prints the figure ("FIGURE | test | figure | bar | PASS") and appends it as one JSON line to the
/// file named by PILEHUB_CHAOS_FIGURES (when set). Returns `f.pass`, for a CHECK.
bool report(const Figure& f);

/// What `pilehubctl audit` said about the core database at `db_path`: its exit status, its
/// violation lines and its summary line. Runs the built pilehubctl with `--set db.path=…`.
struct Audit {
    int exit_code = -1;
    int violations = 0;
    std::string output;
    bool ok() const { return exit_code == 0 && violations == 0; }
};
Audit audit(const std::string& db_path);

} // namespace pilehub::chaos
