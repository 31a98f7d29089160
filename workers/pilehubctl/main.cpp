// pilehubctl: the administrator's tool. Wiring only; the commands are in ctl_commands.cpp.
#include "ctl_commands.hpp"

#include "common/db.hpp"
#include "common/log.hpp"

#include <iostream>

namespace {

constexpr const char* kUsage = R"(usage: pilehubctl [--config FILE] [--set key=value]... COMMAND ...

  migrate                                   apply schema migrations to the core and telemetry databases
                                            (the daemons also migrate forward when they start, and refuse
                                            to start on a database newer than they know)
  migrate --check                           print each database's schema version and pending migrations,
                                            changing nothing: exit 0 up to date, 1 migrations pending,
                                            2 a database is NEWER than this build (a downgrade: refused)
  operator add NAME                         create an operator (idempotent)
  station add --operator NAME --name NAME --lat DEG --lon DEG [--address TEXT] [--open-hours HH:MM-HH:MM]
  device add ID --kind ebike_pile|ev_charger|camera [--station ID] [--ports N] [--name TEXT]
             [--guns N] [--connector N:TYPE:WATTS]... [--protocol mqtt|ocpp1.6]
                                            prints the device's MQTT username and secret (shown once);
                                            chargers: --guns is --ports, each --connector gives a gun's
                                            type (gbt_dc|gbt_ac|ccs2|type2) and rated power, e.g. 1:gbt_dc:120000;
                                            --protocol ocpp1.6 (chargers only): an OCPP 1.6-J charge point
                                            behind the gateway; prints its ocpp_url, ocpps_url and ocpp_password
                                            (its HTTP Basic key; user = ID) instead of MQTT credentials;
                                            without --station the device goes into stock (install it with
                                            PUT /admin/devices/{id} {station_id})
  device list [--station ID]
  device remove ID
  device rotate ID                          issue a new secret (the old one stops working at once): the
                                            MQTT password, or an OCPP charger's key
  admin create USERNAME [--password-file F] [--role ROLE] [--operator NAME]
                                            a random password is printed if none is given
  services init                             credentials for our own processes (svc.*), written to
                                            <data_dir>/secrets/svc.<name>.pass, and the OCPP gateway's key
                                            <data_dir>/secrets/ocpp-gateway.key; existing ones are kept
  broker sync                               rewrite the broker password file from the database and reload
  fleet provision --station ID --out FILE [--prefix P] [--ebike N] [--ebike-sockets 10|20]
                  [--ev N] [--guns N] [--ocpp N] [--camera N] [--spaces N]
                                            register a simulated fleet and write its secrets for pilehub-sim;
                                            --ocpp N adds N OCPP chargers (<prefix>-ocpp-NNN, --guns guns),
                                            written with protocol, ocpp_url and ocpp_password (pilehub-sim
                                            skips them)
  audit                                     check the wallets against the ledger and the settlements
                                            (BILLING.md §4); prints each violation, exit 1 if any
  backup --out DIR [--keep N]               online backup of the core and telemetry databases while the
                                            daemons run (SQLite's backup API, in steps) into
                                            DIR/<YYYYMMDDTHHMMSS.mmmZ>/ (0700; files 0600), each copy
                                            integrity-checked, with manifest.json (time, files, sizes,
                                            sha256, schema versions); --keep N then removes all but the
                                            newest N backups in DIR
  restore --from DIR/<ts> --data-dir NEW [--force]
                                            checks the backup (manifest sizes and sha256, integrity),
                                            copies it to NEW/pilehub.db and NEW/telemetry.db, then runs
                                            the audit; refuses existing databases in NEW unless --force;
                                            exit 1 if the backup is damaged or the audit finds violations

Device ids are [A-Za-z0-9_-]{1,48}. Exit codes: 0 ok, 1 failure, 2 bad usage or configuration.
Configuration keys: pilehubctl --help-config
)";

} // namespace

int main(int argc, char** argv) {
    using namespace pilehub;
    log::init("pilehubctl", log::Level::Warn);
    std::optional<std::string> file;
    std::vector<std::string> overrides;
    ctl::Args args;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--config" && i + 1 < argc)
            file = argv[++i];
        else if (a == "--set" && i + 1 < argc)
            overrides.emplace_back(argv[++i]);
        else if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (a == "--help-config") {
            auto s = ConfigSchema::common("pilehubctl");
            ctl::add_keys(s);
            std::cout << s.describe();
            return 0;
        } else
            break;
    }
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.rfind("--", 0) == 0) {
            const auto name = a.substr(2);
            if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
                args.flags[name] = argv[++i];
            else
                args.flags[name] = "";
            args.lists[name].push_back(args.flags[name]);
        } else {
            args.words.push_back(a);
        }
    }
    if (args.words.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    auto schema = ConfigSchema::common("pilehubctl");
    ctl::add_keys(schema);
    try {
        const auto cfg = Config::load(schema, file, overrides);
        if (auto lvl = log::parse_level(cfg.get_string("log.level")); lvl && *lvl > log::Level::Info)
            log::set_level(*lvl);
        const auto cmd = args.words.front();
        if (cmd == "migrate")
            return ctl::cmd_migrate(cfg, args);
        if (cmd == "operator")
            return ctl::cmd_operator(cfg, args);
        if (cmd == "station")
            return ctl::cmd_station(cfg, args);
        if (cmd == "device")
            return ctl::cmd_device(cfg, args);
        if (cmd == "admin")
            return ctl::cmd_admin(cfg, args);
        if (cmd == "services")
            return ctl::cmd_services(cfg, args);
        if (cmd == "broker")
            return ctl::cmd_broker(cfg, args);
        if (cmd == "fleet")
            return ctl::cmd_fleet(cfg, args);
        if (cmd == "audit")
            return ctl::cmd_audit(cfg, args);
        if (cmd == "backup")
            return ctl::cmd_backup(cfg, args);
        if (cmd == "restore")
            return ctl::cmd_restore(cfg, args);
        std::cerr << "pilehubctl: unknown command `" << cmd << "`\n" << kUsage;
        return 2;
    } catch (const ConfigError& e) {
        std::cerr << "pilehubctl: " << e.what() << "\n";
        return 2;
    } catch (const db::Error& e) {
        std::cerr << "pilehubctl: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "pilehubctl: " << e.what() << "\n";
        return 1;
    }
}
