#include "web-api/context.hpp"

#include "common/log.hpp"

namespace pilehub::api {

DbPool::Lease::~Lease() {
    if (!db_)
        return;
    std::lock_guard l(pool_->m_);
    pool_->free_.push_back(std::move(db_));
}

DbPool::Lease DbPool::get() {
    {
        std::lock_guard l(m_);
        if (!free_.empty()) {
            auto d = std::move(free_.back());
            free_.pop_back();
            return Lease(*this, std::move(d));
        }
    }
    return Lease(*this, std::make_unique<db::Database>(path_, options_));
}

bool DevSmsProvider::send(const std::string& phone, const std::string& code, std::string*) {
    log::info("dev sms: code {} for {}", code, phone);
    return true;
}

} // namespace pilehub::api
