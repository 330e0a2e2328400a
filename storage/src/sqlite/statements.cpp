// Statements kept prepared per connection (see Statements in sqlite_impl.hpp).
#include "sqlite_impl.hpp"

namespace tfadesk::storage {

Statements::Use::Use(Statements& cache, SQLite::Database& db, const std::string& sql) {
    auto it = cache.kept_.find(sql);
    if (it == cache.kept_.end() && cache.kept_.size() < kCapacity)
        it = cache.kept_.emplace(sql, Kept{std::make_unique<SQLite::Statement>(db, sql)}).first;
    if (it == cache.kept_.end() || it->second.busy) {
        own_ = std::make_unique<SQLite::Statement>(db, sql);
        statement_ = own_.get();
        return;
    }
    statement_ = it->second.statement.get();
    busy_ = &it->second.busy;
    *busy_ = true;
}

Statements::Use::~Use() {
    if (!busy_) return;
    statement_->tryReset();  // no read snapshot kept open past this use
    // Nor a binding: values bound without a copy (bindNoCopy) do not outlive this use.
    try {
        statement_->clearBindings();
    } catch (...) {  // sqlite3_clear_bindings() has no error to report
    }
    *busy_ = false;
}

}  // namespace tfadesk::storage
