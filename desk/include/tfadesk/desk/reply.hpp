// Replies to the requester (SPEC §11): the message an agent sends at a ticket's current state, so
// every requester hears the policy in the same words. docs/replies.md has the texts and the rules
// a desk's own templates follow.
//
// A reply is a template for one (state, language), filled with named placeholders in fmt's
// syntax (`{ref}`; a literal brace is `{{` or `}}`). English is built in for every state of §3.
// A desk folder of `NAME.LANG.txt` files overrides it: NAME is a state (first line the subject,
// the rest the body) or a snippet (the whole file is one text, see snippets()); the lists that
// `{questions}`, `{missing_checks}` and `{failed_check}` expand to are built from snippets, so a
// desk translates them too.
//
// Invariants:
//  - A Templates value holds only texts that have been checked (Templates::load): known NAME,
//    well-formed LANG, a subject line, valid UTF-8 without control characters, only known
//    placeholders, none that the text's place forbids, and fmt formats each of them. So
//    render() never fails because of a template.
//  - No placeholder yields the full phone number or the requester's email: the phone is shown as
//    `**** 6789` (fixed width, the last 4 digits only), the email never.
//  - A `partner_rejected` text may use only `{ref}`, `{state}` and `{submitted_at}`: the partner is
//    not the client (R3) and learns nothing about the client's account from the reply.
//  - A reply is in one language: a non-English state text that expands a list needs every
//    snippet of that list in the same language (checked at load).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tfadesk/engine/journal.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/engine/ticket.hpp"

namespace tfadesk::desk {

// What `reply` prints. `lang` is the language of the text actually used: the one asked for, or
// "en" when the desk has no text in that language for this state.
struct Reply {
    std::string ref, state, lang, subject, body;
};

// `reply --json`: {"ref","state","lang","subject","body"}.
nlohmann::json to_json(const Reply& r);

// One placeholder a template may use. `in_subject`: allowed on the subject line (the value is one
// line). `for_partner`: allowed in a partner_rejected text (it says nothing about the client).
// `list`: expanded from snippets (see snippets()), so not allowed inside a snippet itself.
struct Placeholder {
    const char* name;
    const char* meaning;
    bool in_subject;
    bool for_partner;
    bool list;
};
const std::vector<Placeholder>& placeholders();

// One snippet: a piece of text that a list placeholder is built from. `used_by` names that
// placeholder. Snippets may use the placeholders that are not lists.
struct Snippet {
    const char* name;  // e.g. "proof.lost_access"
    const char* used_by;
    const char* meaning;
};
const std::vector<Snippet>& snippets();

// The state names of SPEC §3 that have a built-in text, in §3's order.
const std::vector<std::string>& reply_states();

// Facts a reply needs that the ticket row does not keep; they come from the ticket's log.
struct ReplyFacts {
    // The check recorded by the last `check-failed` entry (R5), if there is one.
    std::optional<std::string> failed_check;
};
// Reads the facts from a ticket's entries (as Journal::entries returns them). Entries whose
// details do not parse or name no known check are skipped: verify, not reply, judges the log.
ReplyFacts facts_from_log(const std::vector<engine::LogEntry>& entries);

// "+4915123456789" -> "**** 6789". Fewer than 5 digits: all masked ("****").
std::string mask_phone_last4(std::string_view phone);

// One checked text: a state's subject and body, or a snippet (subject empty, the text in body).
struct TemplateText {
    std::string subject;
    std::string body;
    std::string source;  // the file it was read from, or "built-in"
};

class Templates {
public:
    // `dir` empty or nullopt: the built-in English texts only. Otherwise reads every `*.txt`
    // file of `dir` (not its subfolders; other files and names starting with '.' are ignored),
    // sorted by name, and checks each fully before returning. Throws Error(invalid_input) naming
    // the file (and the line and placeholder where there is one) when `dir` is not a folder, or
    // a file: is not a regular file or is over 64 KiB; is not named NAME.LANG.txt with NAME a
    // state or snippet and LANG a language code (see is_lang); is not valid UTF-8 or holds control
    // characters other than tab and line breaks; has no subject line or no body (states) or is
    // empty (snippets); uses a placeholder that does not exist, is positional (`{}`, `{0}`), or is
    // not allowed where it stands (see Placeholder); does not format with fmt (an unmatched brace,
    // a bad format spec); or is a non-English state text whose lists need a snippet that the
    // folder lacks in that language. Throws Error(unexpected) when a file cannot be read.
    static Templates load(const std::optional<std::string>& dir);

    // The reply for `t` in `lang` ("" means "en"): the desk's text for (state, lang) if it has
    // one, else the English text (the desk's `STATE.en.txt`, else built in), and Reply::lang
    // says which. Snippets are taken in the language of the state text, English falling back to
    // the built-in ones. Throws Error(invalid_input) when `lang` is not a language code,
    // Error(unexpected) for a state with no text (one this build does not know).
    Reply render(const engine::Ticket& t, const std::string& lang,
                 const ReplyFacts& facts = {}) const;

private:
    // The desk's text for (name, lang); for "en" the built-in one when the desk has none.
    const TemplateText* find(const std::string& name, const std::string& lang) const;

    std::map<std::pair<std::string, std::string>, TemplateText> folder_;  // (NAME, LANG) -> text
};

// A language code as used in file names and --lang: 2-3 lower-case letters, optionally '-' and
// 2-8 letters or digits ("en", "de", "pt-BR").
bool is_lang(std::string_view lang);

// The reply for ticket `ref` at its current state (Error(not_found) for an unknown ref): the
// use case `tfadesk reply` and `GET /api/v1/tickets/REF/reply` share.
Reply reply_for(engine::Store& store, const std::string& ref, const std::string& lang,
                const Templates& templates);

}  // namespace tfadesk::desk
