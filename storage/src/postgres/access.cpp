// The access log (SPEC §12): appended in short transactions of its own, beside the log.
#include "../rows.hpp"
#include "impl.hpp"

namespace tfadesk::storage {

namespace {

constexpr const char* kInsertAccess =
    "INSERT INTO access_log (at, account, route, refs, ref_count, client) VALUES ($1, $2, $3, $4, "
    "$5, $6)";

}  // namespace

void PgStore::Impl::insert_access(const std::vector<engine::AccessRecord>& records) {
    for (const auto& r : records) {
        const std::string refs = rows::refs_text(r.refs);
        Params p;
        p.add(r.at);
        p.add(r.account);
        p.add(r.route);
        p.add(refs);
        p.add(r.ref_count);
        p.add(r.client);
        q.exec_params(kInsertAccess, p.dynamic());
    }
}

void PgStore::append_access(const std::vector<engine::AccessRecord>& records) {
    auto& impl = *impl_;
    if (impl.mode == Mode::read_only)
        throw Error(ErrorKind::unexpected, "cannot write " + impl.shown + ": it is open read-only");
    if (impl.tx != Impl::Tx::none)
        throw Error(
            ErrorKind::unexpected,
            impl.shown +
                ": the access log is written in a transaction of its own, not inside another");
    if (records.empty()) return;
    if (impl.schema < kPgSchemaVersion) {
        // A desk from before the access log (or none yet): created or migrated as every first
        // write does it, inside a write transaction that appends no entry - so it is not sealed
        // and the head stays where it is.
        auto tx = begin_write();
        impl.guard([&] { impl.insert_access(records); });
        tx->commit();
        return;
    }
    // Without the head lock: records never wait for, or hold up, the writers of the log. As on
    // SQLite: committed before the answer, not waited for on disk (the next log entry's commit
    // flushes it).
    impl.own_transaction(
        "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit TO off",
        [&] { impl.insert_access(records); });
}

void PgStore::for_each_access(const engine::AccessQuery& query,
                              const std::function<void(const engine::AccessRecord&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        // Another process may have migrated the desk since this store looked.
        if (impl.schema < kPgAccessSchema && impl.mode == Mode::read_write &&
            impl.tx != Impl::Tx::write)
            impl.check_schema(true);
        if (impl.schema < kPgAccessSchema) return;  // a desk from before the access log has none
        std::string sql = "SELECT at, account, route, refs, ref_count, client FROM access_log";
        bool filtered = false;
        auto where = [&](const std::string& condition) {
            sql += (filtered ? " AND " : " WHERE ") + condition;
            filtered = true;
        };
        if (query.ref)
            where("strpos(refs, " + impl.q.quote(rows::refs_needle(*query.ref)) + ") > 0");
        if (query.account) where("account = " + impl.q.quote(*query.account));
        if (query.since) where("at >= " + impl.q.quote(*query.since));
        engine::AccessRecord r;
        impl.scan(sql + " ORDER BY at, id", [&](const pqxx::row& row) {
            r.at = text(row[0]);
            r.account = text(row[1]);
            r.route = text(row[2]);
            r.refs = rows::refs_from(text(row[3]));
            r.ref_count = number(row[4]);
            r.client = text(row[5]);
            fn(r);
        });
    });
}

}  // namespace tfadesk::storage
