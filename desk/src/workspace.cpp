#include "tfadesk/desk/workspace.hpp"

#include <limits>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/text.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;
using nlohmann::json;

namespace {

// Invalid input about the query parameter `name`, worded "NAME: words".
[[noreturn]] void invalid(std::string_view name, const engine::Words& words) {
    throw Error::about(ErrorKind::invalid_input, name, words);
}
[[noreturn]] void invalid(std::string_view name, std::string_view text) {
    throw Error::about(ErrorKind::invalid_input, name, text);
}

std::string trimmed(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string hex(const std::string& s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += d[c >> 4];
        out += d[c & 15];
    }
    return out;
}

std::optional<std::string> unhex(const std::string& s) {
    if (s.size() % 2) return std::nullopt;
    auto v = [](char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    std::string out;
    for (std::size_t i = 0; i < s.size(); i += 2) {
        const int a = v(s[i]), b = v(s[i + 1]);
        if (a < 0 || b < 0) return std::nullopt;
        out += static_cast<char>(a * 16 + b);
    }
    return out;
}

// q read every way it can be (SPEC §14): any of them matches.
void read_search(engine::TicketQuery& q, const std::string& raw) {
    const std::string text = trimmed(raw);
    if (text.empty()) invalid("search", "must not be empty");
    if (text.size() > 254) invalid("search", "at most 254 characters");
    if (auto bad = rules::check_utf8(text))
        throw Error(ErrorKind::invalid_input, engine::field("search") + " " + *bad).on("search");
    if (text.find('@') != std::string::npos) {
        q.email = text;
        return;
    }
    if (rules::is_valid_ref(text)) q.ref_prefix = text;
    std::string digits;
    bool phone_like = true;
    for (char c : text) {
        if (c >= '0' && c <= '9')
            digits += c;
        else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' &&
                 !(c == '+' && digits.empty()))
            phone_like = false;
    }
    if (phone_like && !digits.empty()) {
        if (text.find('+') != std::string::npos) {
            if (auto e164 = rules::normalize_phone(text)) q.phone = *e164;
        } else if (digits.size() >= 4) {
            q.phone_suffix = digits;  // the last digits, in any spelling
        }
    }
    q.id = text;  // a client id, waba id or portfolio id, exactly
}

}  // namespace

std::string overdue_bound(const std::string& now, std::int64_t sla_ms) {
    const auto at = rules::parse_utc(now);
    if (!at || sla_ms == engine::kDefaultSlaMs) return now;
    return rules::format_utc_ms(*at + engine::kDefaultSlaMs - sla_ms);
}

engine::TicketQuery ticket_query(const ListRequest& r, const std::string& me,
                                 const std::string& now) {
    engine::TicketQuery q;
    if (r.q) read_search(q, *r.q);
    const auto& states = engine::Machine::states();
    for (const auto& s : r.states) {
        if (std::none_of(states.begin(), states.end(), [&](const auto& x) { return x.first == s; }))
            invalid("state", "unknown state '" + rules::escape_control(s) + "'");
        q.states.push_back(s);
    }
    q.open_only = r.open;
    if (r.assignee) {
        const std::string a = trimmed(*r.assignee);
        if (a == "none")
            q.assignee = "";
        else if (a == "me") {
            if (me.empty())
                invalid("assignee",
                        "'me' needs a signed-in agent" + engine::action("agent_source", ""));
            q.assignee = me;
        } else
            q.assignee = canonical_agent(a, "assignee");
    }
    if (r.overdue) q.overdue_at = overdue_bound(now, r.sla_ms);
    if (r.ready_for) {
        if (*r.ready_for != "me") invalid("ready_for", "only 'me' is supported");
        if (me.empty()) invalid("ready_for", "'me' needs a signed-in agent");
        q.ready_for = me;
    }
    if (r.sort) {
        std::string key = *r.sort;
        if (!key.empty() && key[0] == '-') {
            q.descending = true;
            key.erase(0, 1);
        }
        if (key != "ref" && key != "updated_at" && key != "submitted_at" && key != "due_at")
            invalid("sort",
                    "must be due_at, updated_at, submitted_at or ref, with '-' for descending "
                    "(got '" +
                        rules::escape_control(*r.sort) + "')");
        q.sort = key;
    }
    q.limit = kDefaultPage;
    if (r.limit) {
        const std::string& l = *r.limit;
        if (l.empty() || l.size() > 4 || l.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(l) < 1 || std::stoul(l) > kMaxPage)
            invalid("limit", "must be a whole number from 1 to " + std::to_string(kMaxPage) +
                                 " (got '" + rules::escape_control(l) + "')");
        q.limit = std::stoul(l);
    }
    if (r.cursor) {
        const auto text = unhex(*r.cursor);
        json c;
        try {
            if (!text) throw std::runtime_error("not hex");
            c = json::parse(*text);
            if (!c.is_array() || c.size() != 4 || !c[0].is_string() || !c[1].is_boolean() ||
                !c[2].is_string() || !c[3].is_string())
                throw std::runtime_error("bad shape");
        } catch (const std::exception&) {
            invalid("cursor",
                    "not a cursor this server gave (take the next page's URL from the Link "
                    "header)");
        }
        if (c[0].get<std::string>() != q.sort || c[1].get<bool>() != q.descending)
            invalid("cursor", "it continues another order than sort asks for");
        q.after = std::pair(c[2].get<std::string>(), c[3].get<std::string>());
    }
    return q;
}

std::string next_cursor(const engine::TicketQuery& q, const engine::Ticket& last) {
    return hex(
        json::array({q.sort, q.descending, engine::sort_value(last, q.sort), last.fields.ref})
            .dump());
}

std::vector<std::string> allowed_events(engine::Store& store, const engine::Ticket& t,
                                        const std::set<std::string, std::less<>>& roles,
                                        const std::string& agent, const std::string& now,
                                        std::int64_t sla_ms) {
    std::vector<std::string> out;
    const bool accounts = store.has_accounts();
    for (const auto& event : engine::Machine::events_from(t.state)) {
        const bool approve = event == "approve";
        if (accounts && roles.count(approve ? "approver" : "agent") == 0) continue;
        if (approve) {
            std::set<std::string, std::less<>> passed;
            for (const auto& [check, who] : t.checks) passed.insert(check);
            if (rules::may_disable_for(t.fields.requester_role) ||
                rules::all_checks_passed(passed) ||
                rules::approver_is_independent(agent, t.check_agents))
                continue;
            // R9: the related tickets rejected under R3 (partner-rejected ones come first).
            std::vector<std::string> rejected;
            for (const auto& r :
                 store
                     .related(t.fields.ref, t.fields.phone, t.fields.requester_email,
                              std::numeric_limits<std::int64_t>::max())
                     .first) {
                if (r.state != "partner_rejected") break;
                rejected.push_back(r.ref);
            }
            if (rules::partner_memory(rejected, {})) continue;
        }
        if (event == "expire") {
            const auto active = rules::parse_utc(t.active_at);
            const auto at = rules::parse_utc(now);
            if (!active || !at || rules::sla_elapsed_ms(*active, *at, sla_ms)) continue;
        }
        out.push_back(event);
    }
    return out;
}

json counts_view(const engine::WorkspaceCounts& c) {
    json states = json::object();
    for (const auto& [state, n] : c.states) states[state] = n;
    return json{{"states", states},     {"open", c.open},
                {"mine", c.mine},       {"unassigned", c.unassigned},
                {"overdue", c.overdue}, {"ready_for_me", c.ready_for_me}};
}

}  // namespace tfadesk::desk
