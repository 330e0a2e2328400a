// The access log on SQLite (SPEC §12): records of reads of personal data, kept beside the log in
// tables of their own (schema 4) and appended in short write transactions of their own - never
// through Database::WriteTransaction, so they are no entries, move no head and call no sealer.
#include "../rows.hpp"
#include "sqlite_impl.hpp"

namespace tfadesk::storage {

using engine::AccessQuery;
using engine::AccessRecord;
using engine::Error;
using engine::ErrorKind;

namespace {

constexpr int kAccessSchema = 4;  // the first schema with the access log

}  // namespace

void Database::append_access(const std::vector<AccessRecord>& records) {
    if (impl_->read_only)
        throw Error(ErrorKind::unexpected, "cannot write " + path_ + ": it is open read-only");
    if (sqlite3_get_autocommit(impl_->db.getHandle()) == 0)
        throw Error(
            ErrorKind::unexpected,
            path_ + ": the access log is written in a transaction of its own, not inside another");
    if (records.empty()) return;
    guarded(path_, [&] {
        // Committed before the server answers, but not forced to disk on its own: the next log
        // entry's commit (synchronous=FULL) or checkpoint carries it there. A server that dies
        // keeps every record; a power cut may lose the last ones, never a log entry.
        struct Relaxed {
            SQLite::Database& db;
            explicit Relaxed(SQLite::Database& d) : db(d) { db.exec("PRAGMA synchronous=NORMAL"); }
            ~Relaxed() {
                try {
                    db.exec("PRAGMA synchronous=FULL");
                } catch (...) {  // outside a transaction, this pragma does not fail
                }
            }
        } relaxed(impl_->db);
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement record(
            impl_->db,
            "INSERT INTO access_log (at, account, route, refs, ref_count, client) "
            "VALUES (?, ?, ?, ?, ?, ?)");
        for (const auto& r : records) {
            const std::string refs = rows::refs_text(r.refs);
            record.reset();
            record.bindNoCopy(1, r.at);
            record.bindNoCopy(2, r.account);
            record.bindNoCopy(3, r.route);
            record.bindNoCopy(4, refs);
            record.bind(5, static_cast<int64_t>(r.ref_count));
            record.bindNoCopy(6, r.client);
            record.exec();
        }
        tx.commit();
    });
}

void Database::for_each_access(const AccessQuery& query,
                               const std::function<void(const AccessRecord&)>& fn) {
    if (impl_->schema < kAccessSchema) return;  // a desk from before the access log has none
    guarded(path_, [&] {
        std::string sql = "SELECT at, account, route, refs, ref_count, client FROM access_log";
        std::vector<const std::string*> values;
        auto where = [&](const char* condition, const std::string& value) {
            sql += values.empty() ? " WHERE " : " AND ";
            sql += condition;
            values.push_back(&value);
        };
        const std::string quoted_ref = query.ref ? rows::refs_needle(*query.ref) : "";
        if (query.ref) where("instr(refs, ?) > 0", quoted_ref);
        if (query.account) where("account = ?", *query.account);
        if (query.since) where("at >= ?", *query.since);
        SQLite::Statement q(impl_->db, sql + " ORDER BY at, id");
        for (std::size_t i = 0; i < values.size(); ++i)
            q.bindNoCopy(static_cast<int>(i + 1), *values[i]);
        AccessRecord r;
        while (q.executeStep()) {
            r.at = q.getColumn(0).getString();
            r.account = q.getColumn(1).getString();
            r.route = q.getColumn(2).getString();
            r.refs = rows::refs_from(q.getColumn(3).getString());
            r.ref_count = q.getColumn(4).getInt64();
            r.client = q.getColumn(5).getString();
            fn(r);
        }
    });
}

}  // namespace tfadesk::storage
