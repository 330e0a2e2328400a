// Statement parameters and rows: entries, tickets and accounts to and from libpqxx's rows.
#include "../rows.hpp"

#include "../workspace.hpp"
#include "impl.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::storage {

// "($1,$2,$3),($4,$5,$6)" for `rows` rows of `cols` values.
std::string placeholders(std::size_t rows, std::size_t cols) {
    std::string out;
    std::size_t n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        out += r ? ",(" : "(";
        for (std::size_t c = 0; c < cols; ++c) out += (c ? ",$" : "$") + std::to_string(++n);
        out += ')';
    }
    return out;
}

std::string text(const pqxx::field& f) { return std::string(f.c_str(), f.size()); }
std::optional<std::string> opt_text(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return text(f);
}
std::int64_t number(const pqxx::field& f) { return f.as<std::int64_t>(); }

LogEntry entry_from(const pqxx::row& r) {
    LogEntry e;
    e.seq = number(r[0]);
    e.ref = text(r[1]);
    e.tseq = number(r[2]);
    e.event = text(r[3]);
    e.details = text(r[4]);
    e.agent = text(r[5]);
    e.at = text(r[6]);
    e.state = text(r[7]);
    e.policy_version = r[8].as<int>();
    e.prev_hash = text(r[9]);
    e.hash = text(r[10]);
    return e;
}

Ticket ticket_from(const pqxx::row& r) {
    Ticket t;
    auto& f = t.fields;
    f.ref = text(r[0]);
    f.phone = text(r[1]);
    f.client_id = text(r[2]);
    f.requester_email = text(r[3]);
    rows::read_role_access(t, text(r[4]), text(r[5]));
    f.reason = text(r[6]);
    f.waba_id = opt_text(r[7]);
    f.portfolio_id = opt_text(r[8]);
    f.submitted_at = text(r[9]);
    f.note = opt_text(r[10]);
    t.state = text(r[11]);
    t.version = number(r[12]);
    rows::read_checks(t, text(r[13]), text(r[14]));
    t.updated_at = text(r[15]);
    t.assignee = opt_text(r[16]);
    t.active_at = text(r[17]);
    return t;
}

engine::Account account_from(const pqxx::row& r) {
    engine::Account a;
    a.name = text(r[0]);
    a.roles = rows::roles_from(text(r[1]));
    a.enabled = r[2].as<bool>();
    a.created_at = text(r[3]);
    a.updated_at = text(r[4]);
    a.version = number(r[5]);
    return a;
}

void add_entry(Params& p, const LogEntry& e) {
    p.add(e.seq);
    p.add(e.ref);
    p.add(e.tseq);
    p.add(e.event);
    p.add(e.details);
    p.add(e.agent);
    p.add(e.at);
    p.add(e.state);
    p.add(static_cast<std::int64_t>(e.policy_version));
    p.add(e.prev_hash);
    p.add(e.hash);
}

void TicketRow::add_to(Params& p) const {
    const auto& f = t.fields;
    p.add(f.ref);
    p.add(f.phone);
    p.add(f.client_id);
    p.add(f.requester_email);
    p.add(role);
    p.add(access);
    p.add(f.reason);
    p.add(f.waba_id);
    p.add(f.portfolio_id);
    p.add(f.submitted_at);
    p.add(f.note);
    p.add(t.state);
    p.add(t.version);
    p.add(checks);
    p.add(agents);
    p.add(t.updated_at);
    p.add(t.assignee);
    p.add(t.active_at);
    p.add(due);
    p.add(phone_rev);
    p.add(static_cast<std::int64_t>(workspace::is_open(t.state)));
}

}  // namespace tfadesk::storage
