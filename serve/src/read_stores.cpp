#include "read_stores.hpp"

#include <exception>

namespace tfadesk::serve {

ReadStores::ReadStores(Open open, std::size_t keep) : open_(std::move(open)), keep_(keep) {}

ReadStores::~ReadStores() = default;

void ReadStores::GiveBack::operator()(engine::Store* store) const {
    if (std::uncaught_exceptions() > exceptions) {
        delete store;
        return;
    }
    pool->give_back(store);
}

ReadStores::Handle ReadStores::take() {
    const GiveBack give_back{this, std::uncaught_exceptions()};
    for (;;) {
        std::unique_ptr<engine::Store> kept;
        {
            std::lock_guard lock(mutex_);
            if (idle_.empty()) break;
            kept = std::move(idle_.back());
            idle_.pop_back();
        }
        try {
            if (kept->start_snapshot()) return Handle(kept.release(), give_back);
        } catch (...) {  // a lost connection (a restarted PostgreSQL): try the next, or a new one
        }
    }
    return Handle(open_().release(), give_back);
}

void ReadStores::give_back(engine::Store* store) {
    std::unique_ptr<engine::Store> owned(store);
    try {
        if (!owned->end_snapshot()) return;
    } catch (...) {
        return;
    }
    std::lock_guard lock(mutex_);
    if (idle_.size() < keep_) idle_.push_back(std::move(owned));
}

}  // namespace tfadesk::serve
