// Server-side cursors: scans stream kFetchRows rows at a time.
#include "impl.hpp"

namespace tfadesk::storage {

PgCursor::PgCursor(PgStore::Impl& impl, const std::string& select) : impl_(impl) {
    impl_.acquire_read();
    try {
        name_ = "tfadesk_cursor_" + std::to_string(++impl_.cursors);
        impl_.q.exec("DECLARE " + name_ + " NO SCROLL CURSOR FOR " + select);
        generation_ = impl_.generation;
    } catch (...) {
        impl_.release_read();
        throw;
    }
}

PgCursor::~PgCursor() {
    if (impl_.generation == generation_ && impl_.tx != PgStore::Impl::Tx::none) {
        try {
            impl_.q.exec("CLOSE " + name_);
        } catch (...) {  // the transaction failed already; it ends the cursor
        }
    }
    impl_.release_read();
}

pqxx::result PgCursor::fetch() {
    if (impl_.generation != generation_)
        throw Error(ErrorKind::unexpected,
                    impl_.shown + ": a cursor was read after its transaction ended");
    return impl_.q.exec("FETCH " + std::to_string(kFetchRows) + " FROM " + name_);
}

void PgStore::Impl::scan(const std::string& select,
                         const std::function<void(const pqxx::row&)>& fn) {
    PgCursor cursor(*this, select);
    for (;;) {
        const pqxx::result batch = cursor.fetch();
        for (const auto& row : batch) fn(row);
        if (batch.size() < static_cast<pqxx::result::size_type>(kFetchRows)) return;
    }
}

}  // namespace tfadesk::storage
