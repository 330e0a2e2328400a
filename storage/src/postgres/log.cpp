// The log: reading it (Journal, LogReader) and appending to it (LogWriter, CopyTarget).
#include <limits>

#include "impl.hpp"
#include "tfadesk/engine/chain.hpp"

namespace tfadesk::storage {

std::vector<LogEntry> PgStore::entries(std::string_view ref) {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::vector<LogEntry> out;
        if (!impl.ready()) return out;
        for (const auto& row : impl.q.exec_prepared("entries", std::string(ref)))
            out.push_back(entry_from(row));
        for (const auto& e : impl.pending)
            if (e.ref == ref) out.push_back(e);
        return out;
    });
}

bool PgStore::exists(std::string_view ref) {
    auto& impl = *impl_;
    const std::string key(ref);
    if (impl.pending_opened.count(key)) return true;
    return impl.guard([&] { return impl.opened(key); });
}

bool PgStore::Impl::opened(const std::string& ref) {
    if (!ready()) return false;
    if (tx == Tx::write && !opened_refs && ++lookups >= kLookupsBeforePreload) {
        if (!tickets_total)
            tickets_total =
                schema >= kPgWorkspaceSchema
                    ? number(q.exec("SELECT coalesce(sum(n), 0) FROM ticket_counts")[0][0])
                    : std::numeric_limits<std::int64_t>::max();
        if (lookups * kRefsPerLookup >= *tickets_total) {
            opened_refs.emplace();
            scan("SELECT ref FROM events WHERE tseq = 1",
                 [&](const pqxx::row& r) { opened_refs->insert(text(r[0])); });
            opened_refs->insert(pending_opened.begin(), pending_opened.end());
        }
    }
    if (opened_refs) return opened_refs->count(ref) > 0;
    return !q.exec_prepared("exists", ref).empty();
}

void PgStore::append(LogEntry& e, const Ticket& t) {
    auto& impl = *impl_;
    impl.require_write("append");
    impl.guard([&] {
        e.seq = impl.head.seq + 1;
        e.prev_hash = impl.head.hash;
        e.hash = engine::entry_hash(e);
        impl.queue_outbox(e);
        impl.queue_ticket(t);
        impl.queue_entry(e);
        impl.appended = true;
    });
}

void PgStore::append_account(LogEntry& e, const engine::Account& a,
                             const std::optional<std::string>& token_hash) {
    append_desk_entry(e);  // the entry itself, as any entry without a ticket row
    impl_->guard([&] { impl_->write_account(a, token_hash); });
}

void PgStore::append_desk_entry(LogEntry& e) {
    auto& impl = *impl_;
    impl.require_write("append");
    impl.guard([&] {
        e.seq = impl.head.seq + 1;
        e.prev_hash = impl.head.hash;
        e.hash = engine::entry_hash(e);
        impl.queue_entry(e);
        impl.appended = true;
    });
}

void PgStore::append_verbatim(const LogEntry& e) {
    auto& impl = *impl_;
    impl.require_write("append");
    engine::check_follows(impl.head.seq, impl.head.hash, e);
    impl.guard([&] { impl.queue_entry(e); });
}

void PgStore::for_each_entry(const std::function<void(const LogEntry&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        impl.flush();
        impl.scan(std::string("SELECT ") + kEntryColumns + " FROM events ORDER BY seq",
                  [&](const pqxx::row& r) { fn(entry_from(r)); });
    });
}

void PgStore::for_each_entry_by_ticket(
    const std::function<void(LogEntry&&, const std::optional<engine::PrevEntry>&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        impl.flush();
        std::optional<engine::PrevEntry> prev;
        impl.scan(
            "SELECT e.seq, e.ref, e.tseq, e.event, e.details, e.agent, e.at, e.state, "
            "e.policy_version, "
            "e.prev_hash, e.hash, p.hash, p.at FROM events e LEFT JOIN events p ON p.seq = e.seq - "
            "1 "
            "ORDER BY e.ref, e.tseq",
            [&](const pqxx::row& r) {
                if (r[11].is_null())
                    prev.reset();
                else
                    prev = engine::PrevEntry{text(r[11]), text(r[12])};
                fn(entry_from(r), prev);
            });
    });
}

std::optional<LogEntry> PgStore::entry_at(std::int64_t seq) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<LogEntry> {
        if (!impl.ready()) return std::nullopt;
        impl.flush();
        const auto r = impl.q.exec_prepared("entry_at", seq);
        if (r.empty()) return std::nullopt;
        return entry_from(r[0]);
    });
}

std::vector<LogEntry> PgStore::account_entries() {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::vector<LogEntry> out;
        if (!impl.ready()) return out;
        impl.flush();
        for (const auto& row : impl.q.exec_prepared("account_entries"))
            out.push_back(entry_from(row));
        return out;
    });
}

Head PgStore::head() {
    auto& impl = *impl_;
    if (impl.tx == Impl::Tx::write) return impl.head;
    return impl.guard([&] {
        if (!impl.ready()) return Head{};
        const auto r = impl.q.exec_prepared("head");
        if (r.empty()) return Head{};
        return Head{number(r[0][0]), text(r[0][1])};
    });
}

}  // namespace tfadesk::storage
