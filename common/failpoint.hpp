#pragma once
// Fail points for the chaos suite (docs/reliability.md): a named place in a daemon, right after a
// money or state COMMIT and before the MQTT publish or acknowledgement that follows, where a test can
// make the process die at once. `hit("name")` does nothing unless the environment variable
// PILEHUB_FAILPOINT names it: `name` (its first hit) or `name@N` (its N-th hit); then the process
// raises SIGKILL: no destructor, no flush, no clean disconnect, exactly what kill -9 does.
// The variable is read once; an unset variable costs one branch per hit.
#include <optional>
#include <string>
#include <string_view>

namespace pilehub::failpoint {

/// What PILEHUB_FAILPOINT asks for: die at the `nth` hit of `name`.
struct Spec {
    std::string name;
    long nth = 1;
    bool operator==(const Spec&) const = default;
};

/// `name` or `name@N` (N ≥ 1); nullopt for an empty, malformed or out-of-range text (an unknown
/// name is not an error: it never fires).
std::optional<Spec> parse(std::string_view text);

/// Whether the `count`-th hit (1-based) of the fail point `name` is the one `spec` kills at.
bool fires(const std::optional<Spec>& spec, std::string_view name, long count);

/// A fail point: counts its hits (when armed) and raises SIGKILL at the one PILEHUB_FAILPOINT names.
void hit(std::string_view name);

} // namespace pilehub::failpoint
