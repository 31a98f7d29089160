// The libFuzzer driver of one target (PILEHUB_FUZZ_ENTRY, its function, and PILEHUB_FUZZ_TARGET, its
// name, set per program by CMakeLists.txt): a broken property aborts, so libFuzzer reports the input
// as a crash and keeps it.
#include "tests/fuzz/entries.hpp"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto broken = PILEHUB_FUZZ_ENTRY(data, size);
    if (!broken.empty()) {
        std::fprintf(stderr, "fuzz_%s: property broken: %s\n", PILEHUB_FUZZ_TARGET, broken.c_str());
        std::abort();
    }
    return 0;
}
