#include "common/failpoint.hpp"

#include <signal.h>

#include <atomic>
#include <charconv>
#include <cstdlib>

namespace pilehub::failpoint {

std::optional<Spec> parse(std::string_view text) {
    const auto at = text.rfind('@');
    Spec s;
    s.name = std::string(text.substr(0, at));
    if (s.name.empty() || s.name.find_first_of(" \t\n,") != std::string::npos)
        return std::nullopt;
    if (at != std::string_view::npos) {
        const auto n = text.substr(at + 1);
        const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), s.nth);
        if (n.empty() || ec != std::errc() || end != n.data() + n.size() || s.nth < 1)
            return std::nullopt;
    }
    return s;
}

bool fires(const std::optional<Spec>& spec, std::string_view name, long count) {
    return spec && spec->name == name && count == spec->nth;
}

namespace {

const std::optional<Spec>& armed() {
    static const std::optional<Spec> spec = [] {
        const char* v = std::getenv("PILEHUB_FAILPOINT");
        return v ? parse(v) : std::nullopt;
    }();
    return spec;
}

} // namespace

void hit(std::string_view name) {
    const auto& spec = armed();
    if (!spec || spec->name != name)
        return;
    static std::atomic<long> hits{0};
    if (fires(spec, name, ++hits))
        ::raise(SIGKILL);
}

} // namespace pilehub::failpoint
