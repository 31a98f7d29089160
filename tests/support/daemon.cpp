#include "tests/support/daemon.hpp"

#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace pilehub::test {

namespace fs = std::filesystem;

std::string make_temp_dir(const std::string& prefix) {
    std::string templ = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(templ.data()))
        throw std::runtime_error("mkdtemp failed");
    return templ;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string tail(const std::string& text, std::size_t lines) {
    std::size_t pos = text.size();
    for (std::size_t n = 0; n <= lines && pos != std::string::npos && pos > 0; ++n)
        pos = text.rfind('\n', pos - 1);
    return pos == std::string::npos ? text : text.substr(pos + 1);
}

Daemon::Daemon(std::string name, const Broker& broker, std::string data_dir, std::vector<std::string> sets,
               DaemonOptions options)
    : name_(std::move(name)), data_dir_(std::move(data_dir)), sets_(std::move(sets)), options_(std::move(options)) {
    fs::create_directories(data_dir_ + "/secrets");
    std::ofstream(data_dir_ + "/secrets/svc." + name_ + ".pass") << broker.password("svc." + name_) << "\n";
    sets_.push_back("data_dir=" + data_dir_);
    sets_.push_back(fmt::format("mqtt.port={}", broker.port()));
}

std::string Daemon::binary(const std::string& name, const std::string& bin_dir) {
    return bin_dir + "/workers/" + name + "/" + name;
}

std::optional<std::string> Daemon::try_start() {
    const auto ready = data_dir_ + "/run/" + name_ + ".ready";
    fs::remove(ready);
    std::vector<std::string> argv{binary(name_, options_.bin_dir)};
    for (const auto& s : sets_) {
        argv.push_back("--set");
        argv.push_back(s);
    }
    SpawnOptions o;
    o.output = log_path();
    proc_ = Process::spawn(argv, o);
    const auto quoted_log = [this] {
        return options_.failure_log_lines ? tail(log(), options_.failure_log_lines) : log();
    };
    const auto polls = options_.ready_timeout / options_.poll;
    for (std::int64_t i = 0; i < polls && !fs::exists(ready); ++i) {
        if (!proc_.running())
            return name_ + " exited during start-up:\n" + quoted_log();
        std::this_thread::sleep_for(options_.poll);
    }
    if (!fs::exists(ready))
        return fmt::format("{} not ready in {} s:\n{}", name_,
                           std::chrono::duration<double>(options_.ready_timeout).count(), quoted_log());
    return std::nullopt;
}

} // namespace pilehub::test
