#include "workers/pilehub-sim/device_store.hpp"

#include "common/json.hpp"
#include "common/log.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pilehub::sim {

std::int64_t MemoryStore::next_boot(std::string_view dev) {
    std::lock_guard l(m_);
    auto it = boots_.find(dev);
    if (it == boots_.end())
        it = boots_.emplace(std::string(dev), 0).first;
    return ++it->second;
}

std::int64_t MemoryStore::last_boot(std::string_view dev) {
    std::lock_guard l(m_);
    auto it = boots_.find(dev);
    return it == boots_.end() ? 0 : it->second;
}

DeviceSnapshot MemoryStore::load(std::string_view dev) {
    std::lock_guard l(m_);
    auto it = snaps_.find(dev);
    return it == snaps_.end() ? DeviceSnapshot{} : it->second;
}

void MemoryStore::save(std::string_view dev, const DeviceSnapshot& s) {
    std::lock_guard l(m_);
    snaps_.insert_or_assign(std::string(dev), s);
}

namespace {

std::optional<std::string> read_file(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Temporary file in the same directory, then rename: readers see the old or the new file, never half.
void write_atomically(const std::string& p, const std::string& text) {
    const auto tmp = fmt::format("{}.tmp{}", p, ::gettid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out)
            throw std::runtime_error(fmt::format("cannot write {}", tmp));
    }
    if (std::rename(tmp.c_str(), p.c_str()) != 0)
        throw std::runtime_error(fmt::format("cannot rename {} to {}", tmp, p));
}

} // namespace

FileStore::FileStore(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_ + "/devices", ec);
    if (ec)
        throw std::runtime_error(fmt::format("cannot create {}/devices: {}", dir_, ec.message()));
}

std::string FileStore::path(std::string_view dev, std::string_view ext) const {
    return fmt::format("{}/devices/{}.{}", dir_, dev, ext);
}

std::int64_t FileStore::last_boot(std::string_view dev) {
    auto text = read_file(path(dev, "boot"));
    if (!text)
        return 0;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || v < 0) {
        log::warn(log::Ctx{dev, {}}, "boot file is unreadable; starting again from 0");
        return 0;
    }
    return v;
}

std::int64_t FileStore::next_boot(std::string_view dev) {
    // Each device has its own file and only its own connect path calls this, one attempt at a time.
    const auto next = last_boot(dev) + 1;
    write_atomically(path(dev, "boot"), fmt::format("{}\n", next));
    return next;
}

std::string FileStore::encode(const DeviceSnapshot& s) {
    json::Writer w;
    w.begin_object().key("records").begin_array();
    for (const auto& r : s.records)
        w.begin_object().field("id", r.id).field("name", r.name).field("payload", r.payload).end_object();
    w.end_array();
    w.field("cfg_desired", s.cfg_desired);
    w.key("meters_wh").begin_array();
    for (auto m : s.meters_wh)
        w.value(m);
    w.end_array();
    w.field("firmware", s.firmware).field("ota_installed", s.ota_installed);
    w.end_object();
    return w.str();
}

std::optional<DeviceSnapshot> FileStore::decode(std::string_view text) {
    auto doc = json::parse(text, 16u * 1024 * 1024);
    if (!doc)
        return std::nullopt;
    std::string err;
    auto root = json::Object::root(*doc, &err);
    DeviceSnapshot s;
    auto recs = root.opt_arr("records", 100000);
    for (std::size_t i = 0; i < recs.size(); ++i) {
        auto o = recs.obj(i);
        PendingRecord r;
        r.id = o.req_str("id", 128);
        r.name = o.req_str("name", 64);
        r.payload = o.req_str("payload", 64 * 1024);
        s.records.push_back(std::move(r));
    }
    s.cfg_desired = root.opt_str("cfg_desired", 64 * 1024).value_or("");
    auto meters = root.opt_arr("meters_wh", 64);
    for (std::size_t i = 0; i < meters.size(); ++i)
        s.meters_wh.push_back(meters.int_at(i, 0, std::numeric_limits<std::int64_t>::max()).value_or(0));
    s.firmware = root.opt_str("firmware", 64).value_or("");
    s.ota_installed = root.opt_str("ota_installed", 64).value_or("");
    if (!err.empty())
        return std::nullopt;
    return s;
}

DeviceSnapshot FileStore::load(std::string_view dev) {
    auto text = read_file(path(dev, "json"));
    if (!text)
        return {};
    auto s = decode(*text);
    if (!s) {
        log::warn(log::Ctx{dev, {}}, "snapshot {} is unreadable; starting empty", path(dev, "json"));
        return {};
    }
    return *s;
}

void FileStore::save(std::string_view dev, const DeviceSnapshot& s) {
    write_atomically(path(dev, "json"), encode(s));
}

} // namespace pilehub::sim
