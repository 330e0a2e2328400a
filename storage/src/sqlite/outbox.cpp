// The helpdesk connector on SQLite (SPEC §17, schema 6): the delivery ids intake has applied, the
// tickets a connector with an outbox opened, and the outbox itself. Rows are queued by append()
// in the transaction of the entry that causes them; the sender claims, settles and retries them
// in short write transactions of its own (they are no entries: no head moves, no seal).
#include "sqlite_impl.hpp"

namespace tfadesk::storage {

using engine::Error;
using engine::ErrorKind;
using engine::OutboxDelivery;

namespace {

constexpr int kOutboxSchema = 6;  // the first schema with the connector's tables
constexpr const char* kColumns =
    "id, seq, ref, source, hash, status, attempts, created_at, next_at, last_error";

OutboxDelivery delivery_from(SQLite::Statement& q) {
    OutboxDelivery d;
    d.id = q.getColumn(0).getInt64();
    d.seq = q.getColumn(1).getInt64();
    d.ref = q.getColumn(2).getString();
    d.source = q.getColumn(3).getString();
    d.hash = q.getColumn(4).getString();
    d.status = q.getColumn(5).getString();
    d.attempts = q.getColumn(6).getInt64();
    d.created_at = q.getColumn(7).getString();
    d.next_at = q.getColumn(8).getString();
    d.last_error = q.getColumn(9).getString();
    return d;
}

void refuse_read_only(const Database::Impl& impl, const std::string& path) {
    if (impl.read_only)
        throw Error(ErrorKind::unexpected, "cannot write " + path + ": it is open read-only");
}

void refuse_in_transaction(Database::Impl& impl, const std::string& path) {
    if (sqlite3_get_autocommit(impl.db.getHandle()) == 0)
        throw Error(
            ErrorKind::unexpected,
            path + ": the outbox is settled in a transaction of its own, not inside another");
}

}  // namespace

void queue_outbox(Database::Impl& impl, const engine::LogEntry& e) {
    if (e.tseq <= 1 || impl.schema < kOutboxSchema) return;  // an open changes no state it had
    if (!impl.any_outbox_links)
        impl.any_outbox_links =
            impl.db.execAndGet("SELECT EXISTS (SELECT 1 FROM outbox_links)").getInt() != 0;
    if (!*impl.any_outbox_links) return;
    SQLite::Statement link(impl.db, "SELECT source FROM outbox_links WHERE ref = ?");
    link.bind(1, e.ref);
    if (!link.executeStep()) return;
    const std::string source = link.getColumn(0).getString();
    std::string before;
    if (impl.has_pending && impl.pending.fields.ref == e.ref) {
        before = impl.pending.state;
    } else {
        impl.flush();
        SQLite::Statement q(impl.db, "SELECT state FROM tickets WHERE ref = ?");
        q.bind(1, e.ref);
        if (q.executeStep()) before = q.getColumn(0).getString();
    }
    if (before == e.state) return;  // SPEC §17: only a change of state goes out
    SQLite::Statement ins(
        impl.db,
        "INSERT INTO outbox (seq, ref, source, hash, status, created_at, next_at) "
        "VALUES (?, ?, ?, ?, 'pending', ?, ?)");
    ins.bind(1, static_cast<int64_t>(e.seq));
    ins.bind(2, e.ref);
    ins.bind(3, source);
    ins.bind(4, e.hash);
    ins.bind(5, e.at);
    ins.bind(6, e.at);
    ins.exec();
}

bool Database::intake_seen(std::string_view source, std::string_view delivery_id) {
    if (impl_->schema < kOutboxSchema) return false;
    return guarded(path_, [&] {
        SQLite::Statement q(impl_->db,
                            "SELECT 1 FROM intake_deliveries WHERE source = ? AND delivery_id = ?");
        q.bind(1, std::string(source));
        q.bind(2, std::string(delivery_id));
        return q.executeStep();
    });
}

void Database::record_intake(std::string_view source, std::string_view delivery_id,
                             std::string_view at) {
    refuse_read_only(*impl_, path_);
    guarded(path_, [&] {
        SQLite::Statement q(
            impl_->db, "INSERT INTO intake_deliveries (source, delivery_id, at) VALUES (?, ?, ?)");
        q.bind(1, std::string(source));
        q.bind(2, std::string(delivery_id));
        q.bind(3, std::string(at));
        q.exec();
    });
}

void Database::link_outbox(std::string_view ref, std::string_view source) {
    refuse_read_only(*impl_, path_);
    guarded(path_, [&] {
        SQLite::Statement q(impl_->db, "INSERT INTO outbox_links (ref, source) VALUES (?, ?)");
        q.bind(1, std::string(ref));
        q.bind(2, std::string(source));
        q.exec();
        impl_->any_outbox_links = true;
    });
}

std::vector<OutboxDelivery> Database::outbox(bool dead_only) {
    std::vector<OutboxDelivery> out;
    if (impl_->schema < kOutboxSchema) return out;
    guarded(path_, [&] {
        SQLite::Statement q(impl_->db, std::string("SELECT ") + kColumns + " FROM outbox WHERE " +
                                           (dead_only ? "status = 'dead'" : "status <> 'sent'") +
                                           " ORDER BY id");
        while (q.executeStep()) out.push_back(delivery_from(q));
    });
    return out;
}

std::vector<OutboxDelivery> Database::claim_outbox(std::string_view now,
                                                   std::string_view lease_until,
                                                   std::size_t limit) {
    refuse_read_only(*impl_, path_);
    refuse_in_transaction(*impl_, path_);
    std::vector<OutboxDelivery> out;
    guarded(path_, [&] {
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        // Each ticket's oldest pending delivery, when it is due and nobody holds it.
        SQLite::Statement q(impl_->db,
                            std::string("SELECT ") + kColumns +
                                " FROM outbox o WHERE status = 'pending' AND next_at <= ?1 "
                                "AND (lease_until IS NULL OR lease_until <= ?1) "
                                "AND id = (SELECT min(id) FROM outbox p WHERE p.ref = o.ref AND "
                                "p.status = 'pending') "
                                "ORDER BY id LIMIT ?2");
        q.bind(1, std::string(now));
        q.bind(2, static_cast<int64_t>(limit));
        while (q.executeStep()) out.push_back(delivery_from(q));
        SQLite::Statement lease(impl_->db, "UPDATE outbox SET lease_until = ? WHERE id = ?");
        for (const auto& d : out) {
            lease.reset();
            lease.bind(1, std::string(lease_until));
            lease.bind(2, static_cast<int64_t>(d.id));
            lease.exec();
        }
        tx.commit();
    });
    return out;
}

void Database::settle_outbox(std::int64_t id, std::string_view status, std::string_view next_at,
                             std::string_view error) {
    refuse_read_only(*impl_, path_);
    refuse_in_transaction(*impl_, path_);
    guarded(path_, [&] {
        SQLite::Statement q(impl_->db,
                            "UPDATE outbox SET status = ?, next_at = ?, last_error = ?, "
                            "attempts = attempts + 1, lease_until = NULL WHERE id = ?");
        q.bind(1, std::string(status));
        q.bind(2, std::string(next_at));
        q.bind(3, std::string(error));
        q.bind(4, static_cast<int64_t>(id));
        q.exec();
    });
}

bool Database::retry_outbox(std::int64_t id, std::string_view now) {
    refuse_read_only(*impl_, path_);
    refuse_in_transaction(*impl_, path_);
    if (impl_->schema < kOutboxSchema) return false;
    return guarded(path_, [&] {
        SQLite::Statement q(impl_->db,
                            "UPDATE outbox SET status = 'pending', next_at = ?, attempts = 0, "
                            "created_at = ?, lease_until = NULL WHERE id = ? AND status = 'dead'");
        q.bind(1, std::string(now));
        q.bind(2, std::string(now));
        q.bind(3, static_cast<int64_t>(id));
        return q.exec() == 1;
    });
}

}  // namespace tfadesk::storage
