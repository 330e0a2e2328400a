// Replies to the requester (SPEC §11): loading and checking a desk's templates, and rendering a
// ticket's reply with fmt named arguments. The built-in English texts are in reply_texts.cpp.
#include "tfadesk/desk/reply.hpp"

#include <fmt/args.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "reply_texts.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::desk {

namespace fs = std::filesystem;
using engine::Error;
using engine::ErrorKind;

// ---- The lists of names: placeholders, snippets, states ----------------------------------------

const std::vector<Placeholder>& placeholders() {
    //                                  name,             meaning, subject, partner, list
    static const std::vector<Placeholder> v = {
        {"ref", "the ticket's ref, as the requester's helpdesk knows it", true, true, false},
        {"state", "the ticket's state name (SPEC §3), e.g. identity_check", true, true, false},
        {"submitted_at", "when the request was submitted, ISO 8601 UTC (2026-11-20T09:15:00Z)",
         true, true, false},
        {"client_id", "the client's account id as given on the ticket", true, false, false},
        {"phone_masked", "the phone number with all but its last 4 digits hidden: **** 6789", true,
         false, false},
        {"questions",
         "the questions still unanswered (role, portfolio access), one '- ' line each, from "
         "question.* snippets; questions.none when none",
         false, false, true},
        {"missing_checks",
         "the proof still needed for each identity check not yet passed, one '- ' line each, from "
         "proof.* snippets; proofs.none when none",
         false, false, true},
        {"failed_check",
         "the identity check recorded as failed, in words, from a check.* snippet; check.unknown "
         "when the log names none",
         false, false, true},
    };
    return v;
}

const std::vector<Snippet>& snippets() {
    static const std::vector<Snippet> v = {
        {"question.role", "questions",
         "asked while requester_role is unknown: client, portfolio admin or partner?"},
        {"question.access", "questions",
         "asked while portfolio_access is unknown: can they still open the portfolio?"},
        {"questions.none", "questions", "the whole of {questions} when nothing is unknown"},
        {"proof.client_of_record", "missing_checks",
         "the proof asked for while client_of_record has not passed"},
        {"proof.number_ownership", "missing_checks",
         "the proof asked for while number_ownership has not passed"},
        {"proof.lost_access", "missing_checks",
         "the proof asked for while lost_access has not passed"},
        {"proofs.none", "missing_checks",
         "the whole of {missing_checks} when every check has passed"},
        {"check.client_of_record", "failed_check", "{failed_check} when client_of_record failed"},
        {"check.number_ownership", "failed_check", "{failed_check} when number_ownership failed"},
        {"check.lost_access", "failed_check", "{failed_check} when lost_access failed"},
        {"check.unknown", "failed_check", "{failed_check} when the log names no failed check"},
    };
    return v;
}

const std::vector<std::string>& reply_states() {
    static const std::vector<std::string> v = {
        "received",         "awaiting_requester", "identity_check", "self_service_advised",
        "partner_rejected", "identity_rejected",  "approved",       "disable_submitted",
        "completed",        "cancelled",          "expired"};
    return v;
}

namespace {

const Placeholder* find_placeholder(std::string_view name) {
    for (const auto& p : placeholders())
        if (name == p.name) return &p;
    return nullptr;
}

bool is_state(std::string_view name) {
    const auto& s = reply_states();
    return std::find(s.begin(), s.end(), name) != s.end();
}

bool is_snippet(std::string_view name) {
    const auto& s = snippets();
    return std::any_of(s.begin(), s.end(), [&](const Snippet& x) { return name == x.name; });
}

template <class Range, class Name>
std::string joined(const Range& range, Name name) {
    std::string out;
    for (const auto& x : range) out += (out.empty() ? "" : ", ") + std::string(name(x));
    return out;
}

}  // namespace

// ---- Small pure helpers -----------------------------------------------------------------------

bool is_lang(std::string_view lang) {
    const auto dash = lang.find('-');
    const auto primary = lang.substr(0, dash);
    if (primary.size() < 2 || primary.size() > 3) return false;
    if (!std::all_of(primary.begin(), primary.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
        return false;
    if (dash == std::string_view::npos) return true;
    const auto sub = lang.substr(dash + 1);
    return sub.size() >= 2 && sub.size() <= 8 && std::all_of(sub.begin(), sub.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) != 0;
           });
}

std::string mask_phone_last4(std::string_view phone) {
    std::string digits;
    for (char c : phone)
        if (c >= '0' && c <= '9') digits += c;
    if (digits.size() < 5) return "****";
    return "**** " + digits.substr(digits.size() - 4);
}

ReplyFacts facts_from_log(const std::vector<engine::LogEntry>& entries) {
    ReplyFacts facts;
    for (const auto& e : entries) {
        if (e.event != "check-failed") continue;
        const auto d = nlohmann::json::parse(e.details, nullptr, /*allow_exceptions=*/false);
        if (!d.is_object() || !d.contains("check") || !d["check"].is_string()) continue;
        const auto check = d["check"].get<std::string>();
        if (rules::is_check_name(check)) facts.failed_check = check;
    }
    return facts;
}

nlohmann::json to_json(const Reply& r) {
    return nlohmann::json{{"ref", r.ref},
                          {"state", r.state},
                          {"lang", r.lang},
                          {"subject", r.subject},
                          {"body", r.body}};
}

// ---- Formatting -------------------------------------------------------------------------------

namespace {

using Values = std::vector<std::pair<const char*, std::string>>;

// Formats `text` with the named values; throws fmt::format_error on a bad template.
std::string format(std::string_view text, const Values& values) {
    fmt::dynamic_format_arg_store<fmt::format_context> args;
    for (const auto& [name, value] : values) args.push_back(fmt::arg(name, value));
    return fmt::vformat(fmt::string_view(text.data(), text.size()), args);
}

// "- " before the first line of each item, two spaces before the others.
std::string bulleted(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += '\n';
        out += "- ";
        for (char c : item) out += c == '\n' ? std::string("\n  ") : std::string(1, c);
    }
    return out;
}

// The placeholders that are not lists, from the ticket.
Values scalar_values(const engine::Ticket& t) {
    return {{"ref", t.fields.ref},
            {"state", t.state},
            {"submitted_at", t.fields.submitted_at},
            {"client_id", t.fields.client_id},
            {"phone_masked", mask_phone_last4(t.fields.phone)}};
}

// Every placeholder with a harmless value: what load() formats each text with, once.
Values dummy_values() {
    Values v;
    for (const auto& p : placeholders()) v.emplace_back(p.name, "x");
    return v;
}

}  // namespace

// ---- Rendering --------------------------------------------------------------------------------

const TemplateText* Templates::find(const std::string& name, const std::string& lang) const {
    if (auto it = folder_.find({name, lang}); it != folder_.end()) return &it->second;
    if (lang != "en") return nullptr;
    const auto& builtin = texts::builtin();
    auto it = builtin.find(name);
    return it == builtin.end() ? nullptr : &it->second;
}

Reply Templates::render(const engine::Ticket& t, const std::string& lang_asked,
                        const ReplyFacts& facts) const {
    const std::string asked = lang_asked.empty() ? "en" : lang_asked;
    if (!is_lang(asked))
        throw Error::about(ErrorKind::invalid_input, "lang",
                           "'" + asked + "' is not a language code (e.g. en, de, pt-BR)");
    std::string lang = asked;
    const TemplateText* text = find(t.state, lang);
    if (!text) text = find(t.state, lang = "en");
    if (!text) throw Error(ErrorKind::unexpected, "no reply text for state '" + t.state + "'");

    Values values = scalar_values(t);
    // A snippet in the reply's language (load() made sure the ones a non-English text uses exist).
    auto snippet = [&](const std::string& name) {
        const TemplateText* s = find(name, lang);
        if (!s) s = find(name, "en");
        return format(s->body, values);
    };
    std::vector<std::string> questions, proofs;
    if (t.fields.requester_role == rules::Role::unknown)
        questions.push_back(snippet("question.role"));
    if (t.fields.portfolio_access == rules::Access::unknown)
        questions.push_back(snippet("question.access"));
    for (auto check : rules::kChecks)
        if (t.checks.count(check) == 0) proofs.push_back(snippet("proof." + std::string(check)));
    const std::string failed = "check." + facts.failed_check.value_or("unknown");
    Values lists = {
        {"questions", questions.empty() ? snippet("questions.none") : bulleted(questions)},
        {"missing_checks", proofs.empty() ? snippet("proofs.none") : bulleted(proofs)},
        {"failed_check", snippet(is_snippet(failed) ? failed : "check.unknown")}};
    values.insert(values.end(), lists.begin(), lists.end());

    try {
        return Reply{t.fields.ref, t.state, lang, format(text->subject, values),
                     format(text->body, values)};
    } catch (const fmt::format_error& e) {  // load() formatted every text once: not expected
        throw Error(ErrorKind::unexpected, text->source + ": " + e.what());
    }
}

// ---- Loading and checking ---------------------------------------------------------------------

namespace {

constexpr std::uintmax_t kMaxTemplateBytes = 64 * 1024;

[[noreturn]] void bad(const std::string& where, const std::string& why) {
    throw Error(ErrorKind::invalid_input, "template " + where + ": " + why);
}

// A `{name}` in a text: the name as written (up to ':' or '}') and where its '{' is.
struct Use {
    std::string name;
    std::size_t at;
};

// The replacement fields of an fmt format string, nested ones (in a format spec) included.
// `{{` and `}}` are literal braces. Malformed strings are left for fmt to reject.
std::vector<Use> uses_in(std::string_view s) {
    std::vector<Use> uses;
    auto read_name = [&](std::size_t open) {
        std::size_t end = open + 1;
        while (end < s.size() && s[end] != '}' && s[end] != ':' && s[end] != '{') ++end;
        if (end < s.size() && s[end] != '{')  // else unterminated: fmt names it
            uses.push_back({std::string(s.substr(open + 1, end - open - 1)), open});
        return end;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '}' && i + 1 < s.size() && s[i + 1] == '}') ++i;
        if (s[i] != '{') continue;
        if (i + 1 < s.size() && s[i + 1] == '{') {
            ++i;
            continue;
        }
        std::size_t j = read_name(i);
        if (j < s.size() && s[j] == ':')
            for (++j; j < s.size() && s[j] != '}'; ++j)
                if (s[j] == '{') j = read_name(j);
        i = j;
    }
    return uses;
}

std::size_t line_of(std::string_view text, std::size_t at) {
    return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + at, '\n'));
}

// Is the use of `u` allowed in this text? `on_subject`: it stands on the subject line.
void check_use(const std::string& where, const std::string& name, const Use& u, bool on_subject) {
    const std::string field = "{" + u.name + "}";
    if (u.name.empty() ||
        std::all_of(u.name.begin(), u.name.end(), [](char c) { return c >= '0' && c <= '9'; }))
        bad(where, "positional placeholder " + field + ": use a name (" +
                       joined(placeholders(), [](const Placeholder& p) { return p.name; }) + ")");
    const Placeholder* p = find_placeholder(u.name);
    if (!p)
        bad(where, "unknown placeholder " + field + " (known: " +
                       joined(placeholders(), [](const Placeholder& x) { return x.name; }) +
                       "; a literal brace is written {{ or }})");
    if (on_subject && !p->in_subject)
        bad(where, "placeholder " + field + " spans lines and cannot stand on the subject line");
    if (name == "partner_rejected" && !p->for_partner)
        bad(where, "placeholder " + field +
                       " is not allowed in a partner_rejected reply: the partner is not the "
                       "client and learns nothing about the client's account (R3)");
    if (p->list && is_snippet(name))
        bad(where, "placeholder " + field + " is a list and cannot be used inside a snippet");
}

// Checks one text (a desk's file or a built-in) as SPEC §11 and reply.hpp require.
void check_text(const std::string& name, const std::string& path, const std::string& raw,
                const TemplateText& text) {
    const bool state = is_state(name);
    for (const auto& u : uses_in(raw)) {
        const auto line = line_of(raw, u.at);
        check_use(path + ":" + std::to_string(line), name, u, state && line == 1);
    }
    try {
        const Values dummy = dummy_values();
        format(text.subject, dummy);
        format(text.body, dummy);
    } catch (const fmt::format_error& e) {
        bad(path, std::string("does not format: ") + e.what() + " (a literal brace is {{ or }})");
    }
}

// The file's text with a UTF-8 BOM and CRs before LFs dropped; refuses bad UTF-8 and controls.
std::string read_text(const fs::path& file) {
    const std::string where = file.string();
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) bad(where, "is not a regular file");
    if (fs::file_size(file, ec) > kMaxTemplateBytes) bad(where, "is larger than 64 KiB");
    std::ifstream in(file, std::ios::binary);
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw Error(ErrorKind::unexpected, "cannot read " + where);
    if (raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);
    std::string text;
    for (std::size_t i = 0; i < raw.size(); ++i)
        if (!(raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n')) text += raw[i];
    if (auto why = rules::check_utf8(text)) bad(where, *why);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            bad(where + ":" + std::to_string(line_of(text, i)), "holds a control character");
    }
    return text;
}

std::string trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\n");
    if (first == std::string_view::npos) return "";
    return std::string(s.substr(first, s.find_last_not_of(" \t\n") - first + 1));
}

// A state file: the first line is the subject, the rest (blank lines around it dropped) the body.
// A snippet file: all of it.
TemplateText split(const std::string& name, const std::string& where, const std::string& text) {
    if (!is_state(name)) {
        TemplateText t{"", trimmed(text), where};
        if (t.body.empty()) bad(where, "is empty");
        return t;
    }
    const auto eol = text.find('\n');
    TemplateText t{trimmed(text.substr(0, eol)),
                   eol == std::string::npos ? "" : trimmed(text.substr(eol + 1)), where};
    if (t.subject.empty()) bad(where, "has no subject line (the first line is the subject)");
    if (t.body.empty()) bad(where, "has no body (the lines after the subject)");
    return t;
}

// (NAME, LANG) from "NAME.LANG.txt"; refuses any other name.
std::pair<std::string, std::string> name_and_lang(const fs::path& file) {
    const std::string where = file.string();
    const std::string stem = file.stem().string();
    const auto dot = stem.rfind('.');
    if (dot == std::string::npos) bad(where, "is not named STATE.LANG.txt or SNIPPET.LANG.txt");
    std::string name = stem.substr(0, dot), lang = stem.substr(dot + 1);
    if (!is_lang(lang)) bad(where, "'" + lang + "' is not a language code (e.g. en, de, pt-BR)");
    if (!is_state(name) && !is_snippet(name))
        bad(where,
            "unknown state or snippet '" + name +
                "' (states: " + joined(reply_states(), [](const std::string& s) { return s; }) +
                "; snippets: " + joined(snippets(), [](const Snippet& s) { return s.name; }) + ")");
    return {name, lang};
}

std::vector<fs::path> template_files(const std::string& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec))
        throw Error::about(ErrorKind::invalid_input, "templates", "no such folder '" + dir + "'");
    if (!fs::is_directory(dir, ec))
        throw Error::about(ErrorKind::invalid_input, "templates", "'" + dir + "' is not a folder");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const auto file = entry.path().filename().string();
        if (file.empty() || file[0] == '.' || entry.path().extension() != ".txt") continue;
        if (entry.is_directory(ec)) continue;
        files.push_back(entry.path());
    }
    if (ec) throw Error(ErrorKind::unexpected, "cannot list '" + dir + "': " + ec.message());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

Templates Templates::load(const std::optional<std::string>& dir) {
    for (const auto& [name, text] : texts::builtin())
        check_text(name, "built-in " + name, text.subject + "\n" + text.body, text);

    Templates t;
    if (!dir || dir->empty()) return t;
    std::map<std::pair<std::string, std::string>, std::string> raw_of;
    for (const auto& file : template_files(*dir)) {
        auto key = name_and_lang(file);
        const std::string raw = read_text(file);
        TemplateText text = split(key.first, file.string(), raw);
        check_text(key.first, file.string(), raw, text);
        raw_of[key] = raw;
        t.folder_[key] = std::move(text);
    }
    // One language per reply: a non-English state text's lists need their snippets in its language.
    for (const auto& [key, raw] : raw_of) {
        const auto& [name, lang] = key;
        if (lang == "en" || !is_state(name)) continue;
        for (const auto& u : uses_in(raw))
            for (const auto& s : snippets())
                if (u.name == s.used_by && !t.folder_.count({s.name, lang}))
                    bad(t.folder_[key].source + ":" + std::to_string(line_of(raw, u.at)),
                        "placeholder {" + u.name + "} needs " + s.name + "." + lang +
                            ".txt in the same folder (a reply is in one language)");
    }
    return t;
}

Reply reply_for(engine::Store& store, const std::string& ref, const std::string& lang,
                const Templates& templates) {
    const auto t = get_ticket(store, ref);
    return templates.render(t, lang, facts_from_log(store.entries(ref)));
}

}  // namespace tfadesk::desk
