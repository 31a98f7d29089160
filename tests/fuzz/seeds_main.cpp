// fuzz-http-seeds DIR: writes one seed per API route into DIR (file name: the route's operation id),
// generated from the route table (entries.hpp, http_seeds). scripts/fuzz-seeds runs it.
#include "tests/fuzz/entries.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz-http-seeds DIR\n");
        return 2;
    }
    std::filesystem::create_directories(argv[1]);
    int n = 0;
    for (const auto& [name, bytes] : pilehub::fuzz::http_seeds()) {
        std::ofstream f(std::filesystem::path(argv[1]) / name, std::ios::binary);
        f << bytes;
        ++n;
    }
    std::printf("%d http seeds in %s\n", n, argv[1]);
    return 0;
}
