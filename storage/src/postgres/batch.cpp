// What a write transaction sends: its pending entries and ticket rows, kBatchRows a statement.
#include "impl.hpp"

namespace tfadesk::storage {

void PgStore::Impl::flush() {
    flush_entries();
    flush_rows();
}

void PgStore::Impl::flush_entries() {
    for (std::size_t start = 0; start < pending.size(); start += kBatchRows) {
        const std::size_t n = std::min(kBatchRows, pending.size() - start);
        Params p;
        for (std::size_t i = start; i < start + n; ++i) add_entry(p, pending[i]);
        const std::string sql = std::string("INSERT INTO events (") + kEntryColumns + ") VALUES ";
        if (n == kBatchRows) {
            if (!prepared_batch)
                conn.prepare("insert_entries", sql + placeholders(kBatchRows, kEntryCount));
            prepared_batch = true;
            q.exec_prepared("insert_entries", p.dynamic());
        } else {
            q.exec_params(sql + placeholders(n, kEntryCount), p.dynamic());
        }
    }
    pending.clear();
    pending_opened.clear();
}

void PgStore::Impl::flush_rows() {
    static const std::string upsert = [] {
        std::string set;
        const std::string cols = kTicketWriteColumns;
        for (std::size_t p = cols.find(',') + 2; p < cols.size();) {
            auto end = cols.find(',', p);
            if (end == std::string::npos) end = cols.size();
            const std::string c = cols.substr(p, end - p);
            set += (set.empty() ? "" : ", ") + c + " = excluded." + c;
            p = end + 2;
        }
        return " ON CONFLICT (ref) DO UPDATE SET " + set;
    }();
    const std::string sql =
        std::string("INSERT INTO tickets (") + kTicketWriteColumns + ") VALUES ";
    for (std::size_t start = 0; start < pending_rows.size(); start += kBatchRows) {
        const std::size_t n = std::min(kBatchRows, pending_rows.size() - start);
        Params p;
        for (std::size_t i = start; i < start + n; ++i) pending_rows[i].add_to(p);
        if (n == kBatchRows) {
            if (!prepared_rows)
                conn.prepare("upsert_tickets",
                             sql + placeholders(kBatchRows, kTicketCount) + upsert);
            prepared_rows = true;
            q.exec_prepared("upsert_tickets", p.dynamic());
        } else {
            q.exec_params(sql + placeholders(n, kTicketCount) + upsert, p.dynamic());
        }
    }
    pending_rows.clear();
    pending_row_of.clear();
}

}  // namespace tfadesk::storage
