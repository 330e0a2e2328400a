// The helpdesk connector (SPEC §17): intake deliveries applied, and the outbox.
#include "impl.hpp"

namespace tfadesk::storage {

namespace {

constexpr const char* kOutboxColumns =
    "id, seq, ref, source, hash, status, attempts, created_at, next_at, last_error";

engine::OutboxDelivery delivery_from(const pqxx::row& r) {
    engine::OutboxDelivery d;
    d.id = number(r[0]);
    d.seq = number(r[1]);
    d.ref = text(r[2]);
    d.source = text(r[3]);
    d.hash = text(r[4]);
    d.status = text(r[5]);
    d.attempts = number(r[6]);
    d.created_at = text(r[7]);
    d.next_at = text(r[8]);
    d.last_error = text(r[9]);
    return d;
}

}  // namespace

void PgStore::Impl::queue_outbox(const LogEntry& e) {
    if (e.tseq <= 1 || schema < kPgOutboxSchema) return;
    if (!any_outbox_links)
        any_outbox_links = q.exec("SELECT EXISTS (SELECT 1 FROM outbox_links)")[0][0].as<bool>();
    if (!*any_outbox_links) return;
    Params p;
    p.add(e.ref);
    const auto link = q.exec_params("SELECT source FROM outbox_links WHERE ref = $1", p.dynamic());
    if (link.empty()) return;
    const std::string source = text(link[0][0]);
    std::string before;
    if (const auto it = pending_row_of.find(e.ref); it != pending_row_of.end()) {
        before = pending_rows[it->second].t.state;
    } else {
        const auto r = q.exec_params("SELECT state FROM tickets WHERE ref = $1", p.dynamic());
        if (!r.empty()) before = text(r[0][0]);
    }
    if (before == e.state) return;  // SPEC §17: only a change of state goes out
    Params ins;
    ins.add(e.seq);
    ins.add(e.ref);
    ins.add(source);
    ins.add(e.hash);
    ins.add(e.at);
    q.exec_params(
        "INSERT INTO outbox (seq, ref, source, hash, status, created_at, next_at) "
        "VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
        ins.dynamic());
}

bool PgStore::intake_seen(std::string_view source, std::string_view delivery_id) {
    auto& impl = *impl_;
    return impl.guard([&] {
        if (impl.schema < kPgOutboxSchema) return false;
        const std::string s(source), id(delivery_id);
        Params p;
        p.add(s);
        p.add(id);
        return !impl.q
                    .exec_params(
                        "SELECT 1 FROM intake_deliveries WHERE source = $1 AND delivery_id = $2",
                        p.dynamic())
                    .empty();
    });
}

void PgStore::record_intake(std::string_view source, std::string_view delivery_id,
                            std::string_view at) {
    auto& impl = *impl_;
    impl.require_write("record an intake delivery");
    impl.guard([&] {
        const std::string s(source), id(delivery_id), when(at);
        Params p;
        p.add(s);
        p.add(id);
        p.add(when);
        impl.q.exec_params(
            "INSERT INTO intake_deliveries (source, delivery_id, at) VALUES ($1, $2, $3)",
            p.dynamic());
    });
}

void PgStore::link_outbox(std::string_view ref, std::string_view source) {
    auto& impl = *impl_;
    impl.require_write("link a ticket to an outbox");
    impl.guard([&] {
        const std::string r(ref), s(source);
        Params p;
        p.add(r);
        p.add(s);
        impl.q.exec_params("INSERT INTO outbox_links (ref, source) VALUES ($1, $2)", p.dynamic());
        impl.any_outbox_links = true;
    });
}

std::vector<engine::OutboxDelivery> PgStore::outbox(bool dead_only) {
    auto& impl = *impl_;
    std::vector<engine::OutboxDelivery> out;
    impl.guard([&] {
        if (impl.schema < kPgOutboxSchema && impl.mode == Mode::read_write &&
            impl.tx != Impl::Tx::write)
            impl.check_schema(true);
        if (impl.schema < kPgOutboxSchema) return;
        impl.scan(std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE " +
                      (dead_only ? "status = 'dead'" : "status <> 'sent'") + " ORDER BY id",
                  [&](const pqxx::row& r) { out.push_back(delivery_from(r)); });
    });
    return out;
}

std::vector<engine::OutboxDelivery> PgStore::claim_outbox(std::string_view now,
                                                          std::string_view lease_until,
                                                          std::size_t limit) {
    auto& impl = *impl_;
    if (impl.schema < kPgOutboxSchema) impl.guard([&] { impl.check_schema(true); });
    if (impl.schema < kPgOutboxSchema) return {};
    return impl.short_write("claiming outbox deliveries", [&] {
        const std::string n(now), lease(lease_until);
        Params p;
        p.add(n);
        p.add(lease);
        p.add(static_cast<std::int64_t>(limit));
        // Each ticket's oldest pending delivery, due and held by nobody; rows another server is
        // claiming right now are skipped, not waited for.
        const auto r = impl.q.exec_params(
            std::string(
                "WITH c AS (SELECT id FROM outbox o WHERE status = 'pending' AND next_at <= $1 "
                "AND (lease_until IS NULL OR lease_until <= $1) "
                "AND id = (SELECT min(id) FROM outbox p WHERE p.ref = o.ref AND p.status = "
                "'pending') "
                "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) "
                "UPDATE outbox SET lease_until = $2 FROM c WHERE outbox.id = c.id RETURNING ") +
                "outbox.id, outbox.seq, outbox.ref, outbox.source, outbox.hash, outbox.status, "
                "outbox.attempts, outbox.created_at, outbox.next_at, outbox.last_error",
            p.dynamic());
        std::vector<engine::OutboxDelivery> out;
        for (const auto& row : r) out.push_back(delivery_from(row));
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        return out;
    });
}

void PgStore::settle_outbox(std::int64_t id, std::string_view status, std::string_view next_at,
                            std::string_view error) {
    auto& impl = *impl_;
    impl.short_write("settling an outbox delivery", [&] {
        const std::string s(status), n(next_at), e(error);
        Params p;
        p.add(s);
        p.add(n);
        p.add(e);
        p.add(id);
        impl.q.exec_params(
            "UPDATE outbox SET status = $1, next_at = $2, last_error = $3, attempts = attempts + "
            "1, "
            "lease_until = NULL WHERE id = $4",
            p.dynamic());
    });
}

bool PgStore::retry_outbox(std::int64_t id, std::string_view now) {
    auto& impl = *impl_;
    if (impl.schema < kPgOutboxSchema) impl.guard([&] { impl.check_schema(true); });
    if (impl.schema < kPgOutboxSchema) return false;
    return impl.short_write("retrying a dead letter", [&] {
        const std::string n(now);
        Params p;
        p.add(n);
        p.add(id);
        return impl.q
                   .exec_params(
                       "UPDATE outbox SET status = 'pending', next_at = $1, created_at = $1, "
                       "attempts = 0, lease_until = NULL WHERE id = $2 AND status = 'dead'",
                       p.dynamic())
                   .affected_rows() == 1;
    });
}

}  // namespace tfadesk::storage
