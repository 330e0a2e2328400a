// The server's read-only stores, kept between requests (SPEC §14: opening a store for each
// request, which reads the schema again or connects to PostgreSQL again, cost more than most
// answers). A store taken starts a fresh snapshot; given back, it holds none while it waits.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::serve {

class ReadStores {
public:
    using Open = std::function<std::unique_ptr<engine::Store>()>;

    // Gives a store back when its handle goes, unless an exception is unwinding past it (the
    // store may be broken: it is closed instead).
    struct GiveBack {
        ReadStores* pool = nullptr;
        int exceptions = 0;
        void operator()(engine::Store* store) const;
    };
    using Handle = std::unique_ptr<engine::Store, GiveBack>;

    ReadStores(Open open, std::size_t keep);
    ~ReadStores();
    ReadStores(const ReadStores&) = delete;
    ReadStores& operator=(const ReadStores&) = delete;

    // A store on a fresh snapshot: a kept one, else a new one.
    Handle take();

private:
    void give_back(engine::Store* store);

    Open open_;
    std::size_t keep_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<engine::Store>> idle_;
};

}  // namespace tfadesk::serve
