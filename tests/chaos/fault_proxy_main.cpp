// pilehub-faultproxy: the chaos suite's fault proxy (tests/support/fault_proxy.hpp) as a program, for
// manual runs and scripts. Commands arrive one per line on stdin; each is answered on stdout.
#include "tests/support/fault_proxy.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

namespace {

constexpr const char* kUsage = R"(usage: pilehub-faultproxy --upstream PORT [--listen PORT]
Forwards 127.0.0.1:LISTEN (default: a free port, printed first as "listening PORT") to
127.0.0.1:UPSTREAM. Commands on stdin, one per line; TARGET is a connection id, an MQTT client id,
or "all" (the default: every connection, also those accepted later):
  delay UP_MS DOWN_MS [TARGET]   hold each chunk UP_MS towards the server, DOWN_MS towards the client
  stall [TARGET]                 forward nothing, keep the sockets open (half-open link)
  reset [TARGET]                 close both sides with an RST
  cut [TARGET]                   close both sides normally (EOF)
  heal [TARGET]                  lift delays and stalls
  list                           one line per connection: id client_id open|closed stalled delays
  quit
)";

using pilehub::test::FaultProxy;

/// The connection a TARGET word names; kAll for "all" or nothing; nullopt if unknown.
std::optional<int> target(const FaultProxy& proxy, const std::string& word) {
    if (word.empty() || word == "all")
        return FaultProxy::kAll;
    if (word.find_first_not_of("0123456789") == std::string::npos)
        return std::stoi(word);
    return proxy.find(word);
}

} // namespace

int main(int argc, char** argv) {
    int upstream = 0, listen = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--upstream" || a == "--listen") && i + 1 < argc)
            (a == "--upstream" ? upstream : listen) = std::atoi(argv[++i]);
        else {
            std::cerr << kUsage;
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    if (upstream <= 0 || upstream > 65535 || listen < 0 || listen > 65535) {
        std::cerr << kUsage;
        return 2;
    }
    try {
        FaultProxy proxy(upstream, listen);
        std::cout << "listening " << proxy.port() << std::endl;
        for (std::string line; std::getline(std::cin, line);) {
            std::istringstream in(line);
            std::string cmd;
            in >> cmd;
            if (cmd.empty())
                continue;
            if (cmd == "quit")
                break;
            if (cmd == "list") {
                for (const auto& c : proxy.connections())
                    std::cout << c.id << " " << (c.client_id.empty() ? "-" : c.client_id) << " "
                              << (c.open ? "open" : "closed") << (c.stalled ? " stalled" : "") << " "
                              << c.delay_up.count() << "/" << c.delay_down.count() << "ms\n";
                std::cout << "ok" << std::endl;
                continue;
            }
            long up = 0, down = 0;
            if (cmd == "delay" && !(in >> up >> down)) {
                std::cout << "error: delay UP_MS DOWN_MS [TARGET]" << std::endl;
                continue;
            }
            std::string word;
            in >> word;
            const auto t = target(proxy, word);
            if (!t) {
                std::cout << "error: no open connection " << word << std::endl;
                continue;
            }
            if (cmd == "delay")
                proxy.delay(std::chrono::milliseconds(up), std::chrono::milliseconds(down), *t);
            else if (cmd == "stall")
                proxy.stall(*t);
            else if (cmd == "reset")
                proxy.reset(*t);
            else if (cmd == "cut")
                proxy.cut(*t);
            else if (cmd == "heal")
                proxy.heal(*t);
            else {
                std::cout << "error: unknown command " << cmd << " (try --help)" << std::endl;
                continue;
            }
            std::cout << "ok" << std::endl;
        }
    } catch (const std::exception& e) {
        std::cerr << "pilehub-faultproxy: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
