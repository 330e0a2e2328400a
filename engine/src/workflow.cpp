#include "tfadesk/engine/workflow.hpp"

#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/json_text.hpp"
#include "tfadesk/engine/lookup.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::engine {

namespace {

// fields_to_json(f).dump(), without the DOM: the keys in byte order, optional ones when present.
std::string fields_details(const rules::Fields& f, const std::string& by_token,
                           const std::string& via) {
    std::string out;
    out.reserve(256 + (f.note ? f.note->size() : 0));
    char sep = '{';
    auto field = [&](const char* key, std::string_view value) {
        out += sep;
        sep = ',';
        out += '"';
        out += key;
        out += "\":";
        append_json_string(out, value);
    };
    if (!by_token.empty()) field("by_token", by_token);
    field("client_id", f.client_id);
    if (f.note) field("note", *f.note);
    field("phone", f.phone);
    field("portfolio_access", rules::to_string(f.portfolio_access));
    if (f.portfolio_id) field("portfolio_id", *f.portfolio_id);
    field("reason", f.reason);
    field("ref", f.ref);
    field("requester_email", f.requester_email);
    field("requester_role", rules::to_string(f.requester_role));
    field("submitted_at", f.submitted_at);
    if (!via.empty()) field("via", via);
    if (f.waba_id) field("waba_id", *f.waba_id);
    out += '}';
    return out;
}

}  // namespace

LogEntry open_entry(const rules::Fields& fields, const std::string& agent, const std::string& at,
                    const std::string& by_token, const std::string& via) {
    LogEntry e;
    e.ref = fields.ref;
    e.tseq = 1;
    e.event = "open";
    e.details = fields_details(fields, by_token, via);
    e.agent = agent;
    e.at = at;
    e.state = "received";
    e.policy_version = rules::kPolicyVersion;
    return e;
}

LogEntry event_entry(const Machine& machine, const Command& c) {
    const Ticket& t = machine.ticket();
    LogEntry e;
    e.ref = t.fields.ref;
    e.tseq = t.version;
    e.event = std::string(to_string(c.kind));
    e.details = details_of(c).dump();
    e.agent = c.agent;
    e.at = c.at;
    e.state = t.state;
    e.policy_version = rules::kPolicyVersion;
    return e;
}

bool open_if_new(Journal& journal, rules::Fields fields, const std::string& agent,
                 const std::string& at, bool triage, const std::string& by_token,
                 const std::string& via) {
    LogEntry e = open_entry(fields, agent, at, by_token, via);
    Machine m(std::move(fields), at);
    if (!journal.append_open(e, m.ticket())) return false;
    if (triage) {
        Command c;
        c.kind = EventKind::triage;
        c.agent = agent;
        c.at = at;
        c.by_token = by_token;
        c.via = via;
        m.fire(c);  // triage's guards partition every (role, access): it is always accepted
        LogEntry t = event_entry(m, c);
        journal.append(t, m.ticket());
    }
    return true;
}

Ticket open_ticket(Journal& journal, const rules::Fields& fields, const std::string& agent,
                   const std::string& at, bool triage, const std::string& by_token,
                   const std::string& via) {
    if (!open_if_new(journal, fields, agent, at, triage, by_token, via))
        throw Error(ErrorKind::conflict, "ticket '" + fields.ref + "' already exists");
    return replay(journal.entries(fields.ref)).ticket();
}

Machine replay(const std::vector<LogEntry>& entries, const std::optional<std::string>& as_of) {
    if (entries.empty()) throw Error(ErrorKind::not_found, "no such ticket");
    const LogEntry& first = entries.front();
    auto where = [](const LogEntry& e) {
        return "ticket '" + e.ref + "' entry seq " + std::to_string(e.seq) + " (#" +
               std::to_string(e.tseq) + ", " + e.event + ")";
    };
    if (first.event != "open" || first.tseq != 1)
        throw Error(ErrorKind::integrity, where(first) + ": the log does not start with open");
    if (first.state != "received")
        throw Error(ErrorKind::integrity, where(first) + ": stored state '" + first.state +
                                              "' but an opened ticket is 'received'");
    // Stored details are canonical JSON: read by the fast path, and by nlohmann (whose values
    // and errors are the reference) only when they are not (an edited entry, or old text).
    auto parsed = [&](const LogEntry& e) {
        try {
            return nlohmann::json::parse(e.details);
        } catch (const nlohmann::json::exception&) {
            throw Error(ErrorKind::integrity, where(e) + ": details are not JSON");
        }
    };
    auto flat = parse_flat_object(first.details);
    Machine m(flat ? fields_from_members(*flat) : fields_from_json(parsed(first)), first.at);
    const auto limit = as_of ? rules::parse_utc(*as_of) : std::nullopt;
    for (std::size_t i = 1; i < entries.size(); ++i) {
        const LogEntry& e = entries[i];
        if (limit) {
            const auto at = rules::parse_utc(e.at);
            if (at && *at > *limit) break;
        }
        if (e.tseq != m.ticket().version + 1)
            throw Error(ErrorKind::integrity,
                        where(e) + ": expected #" + std::to_string(m.ticket().version + 1));
        flat = parse_flat_object(e.details);
        const Command c = flat ? command_from_entry(e.event, *flat, e.agent, e.at)
                               : command_from_entry(e.event, parsed(e), e.agent, e.at);
        const Outcome o = m.fire(c);
        if (!o.accepted)
            throw Error(ErrorKind::integrity,
                        where(e) + ": the workflow refuses it: " + o.message(e.event));
        if (o.state != e.state)
            throw Error(ErrorKind::integrity, where(e) + ": stored state '" + e.state +
                                                  "' but the workflow gives '" + o.state + "'");
    }
    return m;
}

EventResult apply_event(Journal& journal, const std::string& ref, const Command& c,
                        std::optional<std::int64_t> expect_version,
                        const std::function<void(LogEntry&)>& before_append) {
    const auto entries = entries_of(journal, ref);
    Machine m = replay(entries);
    if (expect_version && *expect_version != m.ticket().version)
        throw Error(ErrorKind::conflict,
                    "ticket '" + ref + "' is at version " + std::to_string(m.ticket().version) +
                        ", not " + std::to_string(*expect_version) + " (" +
                        field("expect_version") + "): it changed since you looked")
            .on("expect_version")
            .of(ref);
    // SPEC §14: claiming a ticket another agent holds takes it over, which needs a note and is
    // recorded with the agent it is taken from.
    const auto& held = m.ticket().assignee;
    Command judged = c;
    if (c.kind == EventKind::claim && held && *held != c.agent && !m.terminal()) {
        if (!c.note || c.note->find_first_not_of(" \t\r\n") == std::string::npos)
            throw Error::about(ErrorKind::invalid_input, "note",
                               "ticket '" + ref + "' is held by " + *held +
                                   "; taking it over needs a " + field("note") + " saying why")
                .of(ref);
        judged.takes_over = held;
    }
    EventResult r{m.fire(judged), {}};
    if (r.outcome.accepted) {
        LogEntry e = event_entry(m, judged);
        if (before_append) before_append(e);
        journal.append(e, m.ticket());
    }
    r.ticket = m.ticket();
    return r;
}

}  // namespace tfadesk::engine
