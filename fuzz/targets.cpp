// The bodies of the fuzz targets (targets.hpp), compiled once into a library linked by the
// libFuzzer entry points and by the corpus regression test.
#include "targets.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "tfadesk/engine/command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/ingest/records.hpp"
#include "tfadesk/rules/agent.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/mask.hpp"
#include "tfadesk/rules/numbers.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/text.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::fuzz {

static void require(bool ok, const std::string& what) {
    if (!ok) throw PropertyViolation(what);
}

// "Now" for validate_fields, as the CLI makes it (rules::format_utc_ms of the clock).
constexpr const char* kNow = "2026-03-01T10:00:00.123Z";
constexpr const char* kNowExactSecond = "2026-03-01T10:00:00.000Z";

static std::vector<std::string> known_fields() {
    std::vector<std::string> out;
    for (auto name : rules::field_names()) out.emplace_back(name);
    return out;
}

static bool one_line(std::string_view s) { return s.find_first_of("\r\n") == std::string::npos; }

// ---- validate_fields and the single-field checks --------------------------------------------

// The §2 fields of `f` as raw text, as `open` would be given them again.
static rules::RawFields raw_of(const rules::Fields& f) {
    rules::RawFields raw = {
        {"ref", f.ref},
        {"phone", f.phone},
        {"client_id", f.client_id},
        {"requester_email", f.requester_email},
        {"requester_role", std::string(rules::to_string(f.requester_role))},
        {"portfolio_access", std::string(rules::to_string(f.portfolio_access))},
        {"reason", f.reason},
        {"submitted_at", f.submitted_at},
    };
    if (f.waba_id) raw["waba_id"] = *f.waba_id;
    if (f.portfolio_id) raw["portfolio_id"] = *f.portfolio_id;
    if (f.note) raw["note"] = *f.note;
    return raw;
}

// validate_fields, with the invariant of fields.hpp: what it returns is normalised and valid, so
// validating it again gives it back unchanged; errors name a §2 field (or a key of `raw`).
static void check_validate_fields(const rules::RawFields& raw, const char* now = kNow) {
    auto result = rules::validate_fields(raw, now);
    if (const auto* bad = std::get_if<rules::FieldError>(&result)) {
        require(rules::is_field_name(bad->field) || raw.count(bad->field) != 0,
                "validate_fields: error names no field: " + bad->message());
        require(!bad->reason.empty(), "validate_fields: empty reason for " + bad->field);
        return;
    }
    const rules::Fields& f = std::get<rules::Fields>(result);
    require(rules::normalize_phone(f.phone) == f.phone, "validate_fields: phone not normalised");
    require(rules::parse_utc(f.submitted_at).has_value(), "validate_fields: bad submitted_at");
    require(!rules::check_email(f.requester_email), "validate_fields: bad requester_email");
    for (const auto& [key, value] : raw_of(f)) {
        require(!rules::is_blank(value), "validate_fields: blank " + key);
        require(!rules::check_text(value, key == "note"),
                "validate_fields: " + key + " holds a control character or is not UTF-8");
    }
    auto again = rules::validate_fields(raw_of(f), "1999-01-01T00:00:00Z");
    const auto* same = std::get_if<rules::Fields>(&again);
    require(same != nullptr,
            "validate_fields: its own output is refused: " +
                (same ? std::string() : std::get<rules::FieldError>(again).message()));
    if (*same == f) return;
    std::string diff;
    const rules::RawFields first = raw_of(f), second = raw_of(*same);
    for (const auto& [key, value] : first) {
        const auto it = second.find(key);
        if (it == second.end() || it->second != value)
            diff += " " + key + ": '" + value + "' then '" +
                    (it == second.end() ? std::string("(none)") : it->second) + "'";
    }
    require(false, "validate_fields: not idempotent on its own output:" + diff);
}

static void check_parse_utc(std::string_view text) {
    const auto ms = rules::parse_utc(text);
    if (!ms) return;
    require(rules::parse_utc(rules::format_utc(*ms)) == ms, "format_utc does not round-trip");
    require(rules::parse_utc(rules::format_utc_ms(*ms)) == ms, "format_utc_ms does not round-trip");
}

static void check_phone(std::string_view text) {
    const auto e164 = rules::normalize_phone(text);
    if (!e164) return;
    require(e164->size() >= 9 && e164->size() <= 16 && (*e164)[0] == '+' && (*e164)[1] != '0',
            "normalize_phone: result is not E.164: " + *e164);
    require(rules::normalize_phone(*e164) == e164, "normalize_phone: not idempotent");
}

static void check_email_text(std::string_view text) {
    if (rules::check_email(text)) return;
    require(text.size() <= 254, "check_email: accepted more than 254 chars");
    const auto at = text.find('@');
    require(at != std::string_view::npos && at > 0 && text.find('@', at + 1) == std::string::npos,
            "check_email: accepted an address without exactly one '@'");
    require(!rules::check_utf8(text), "check_email: accepted invalid UTF-8");
}

// ---- the text rules: blank, check_text, escape_control, agent names, strict numbers, masks ----

static bool plain_ascii(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F)
            return false;
    return true;
}

static bool is_agent_name(std::string_view s) {
    if (s.empty() || s.size() > rules::kMaxAgentLength) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '@'))
            return false;
    return true;
}

// is_blank, trim_blank, check_text and escape_control (rules/text.hpp): text.hpp's invariant is
// that check_text refuses exactly what escape_control must change.
static void check_text_and_escape(std::string_view text) {
    const std::string_view trimmed = rules::trim_blank(text);
    require(trimmed.data() >= text.data() &&
                trimmed.data() + trimmed.size() <= text.data() + text.size(),
            "trim_blank: not a part of its input");
    require(rules::trim_blank(trimmed) == trimmed, "trim_blank: not idempotent");
    require(rules::is_blank(text) == trimmed.empty(), "is_blank disagrees with trim_blank");
    const auto strict = rules::check_text(text, false);
    const auto notes = rules::check_text(text, true);
    require(!strict || (one_line(*strict) && plain_ascii(*strict)), "check_text: reason unsafe");
    require(!notes || (one_line(*notes) && plain_ascii(*notes)), "check_text: reason unsafe");
    require(strict || !notes, "check_text: allowing line breaks refused more");
    // The first fault found is the one named: invalid UTF-8 is refused, maybe for a control
    // character before it.
    if (rules::check_utf8(text)) require(strict && notes, "check_text: accepted invalid UTF-8");
    if (!notes && text.find_first_of("\r\n") == std::string_view::npos)
        require(!strict, "check_text: refused without line breaks only what it allows with them");
    const std::string shown = rules::escape_control(text);
    const auto shown_bad = rules::check_text(shown, false);
    require(!shown_bad, "escape_control: output holds a control character or bad UTF-8: " +
                            shown_bad.value_or(""));
    require((shown == text) == !strict,
            "escape_control changed text check_text accepts, or the reverse");
    require(rules::escape_control(shown) == shown, "escape_control: not idempotent");
}

// canonical_agent (rules/agent.hpp): its output is in the charset, idempotent, and blind to case
// and to white space around; its refusals are one line of printable ASCII.
static void check_agent(std::string_view text) {
    const auto result = rules::canonical_agent(text);
    if (const auto* bad = std::get_if<rules::FieldError>(&result)) {
        require(bad->field == "agent", "canonical_agent: error names another field");
        require(!bad->reason.empty() && plain_ascii(bad->reason),
                "canonical_agent: reason is not one line of printable ASCII");
        return;
    }
    const std::string& name = std::get<std::string>(result);
    require(is_agent_name(name), "canonical_agent: output outside a-z 0-9 . _ - @: " + name);
    require(rules::canonical_agent(name) == result, "canonical_agent: not idempotent");
    std::string upper = " " + name + "\t";
    for (char& c : upper)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    require(rules::canonical_agent(upper) == result, "canonical_agent: sees case or spaces");
}

// parse_count and parse_expect_head (rules/numbers.hpp), judged against a plain reading.
static void check_numbers(std::string_view text) {
    const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    const auto n = rules::parse_count(text);
    if (n) {
        require(digits && *n >= 0, "parse_count: accepted more than digits");
        const auto first = text.find_first_not_of('0');
        const std::string_view significant =
            first == std::string_view::npos ? std::string_view("0") : text.substr(first);
        require(std::to_string(*n) == significant, "parse_count: wrong value");
    } else if (digits) {
        const auto first = text.find_first_not_of('0');
        const std::string_view significant = text.substr(first);
        require(significant.size() > 19 ||
                    (significant.size() == 19 && significant > "9223372036854775807"),
                "parse_count: refused a count that fits");
    }
    const auto head = rules::parse_expect_head(text);
    if (const auto* bad = std::get_if<rules::FieldError>(&head)) {
        require(bad->field == "expect_head" && plain_ascii(bad->reason),
                "parse_expect_head: bad refusal");
        return;
    }
    const rules::LogHead& h = std::get<rules::LogHead>(head);
    require(h.seq >= 1 && h.hash.size() == 64 &&
                h.hash.find_first_not_of("0123456789abcdef") == std::string::npos,
            "parse_expect_head: accepted a bad head");
    require(rules::parse_expect_head(std::to_string(h.seq) + ":" + h.hash) == head,
            "parse_expect_head: does not read its own form");
}

// mask_pii (rules/mask.hpp): idempotent, touches ASCII only, so UTF-8 stays UTF-8.
static void check_mask(std::string_view text) {
    const std::string masked = rules::mask_pii(text);
    require(rules::mask_pii(masked) == masked, "mask_pii: not idempotent");
    if (!rules::check_utf8(text)) require(!rules::check_utf8(masked), "mask_pii: broke UTF-8");
}

static void check_text_rules(std::string_view text) {
    check_text_and_escape(text);
    check_agent(text);
    check_numbers(text);
    check_mask(text);
}

// Input: any bytes, taken as one value for every text rule.
void text_one(const std::uint8_t* data, std::size_t size) {
    check_text_rules(std::string_view(reinterpret_cast<const char*>(data), size));
}

// Input: field values separated by 0x1E (record separator), taken in §2 order. The first byte
// is a selector: bit 0 keeps empty values as empty strings (else they are left out: both must
// mean "missing"); bit 1 makes "now" an exact second (.000Z); the pieces past the eleventh are
// ignored keys. Every piece also goes through
// the single-field checks and the text rules.
void fields_one(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    const bool keep_empty = (data[0] & 1) != 0;
    const bool exact_second = (data[0] & 2) != 0;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::vector<std::string_view> pieces;
    for (std::size_t start = 0;;) {
        const auto sep = in.find('\x1e', start);
        pieces.push_back(in.substr(start, sep == std::string_view::npos ? sep : sep - start));
        if (sep == std::string_view::npos) break;
        start = sep + 1;
    }
    const auto& names = rules::field_names();
    rules::RawFields raw;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        const std::string_view piece = pieces[i];
        check_parse_utc(piece);
        check_phone(piece);
        check_email_text(piece);
        (void)rules::check_utf8(piece);
        check_text_rules(piece);
        if (piece.empty() && !keep_empty) continue;
        const std::string key =
            i < names.size() ? std::string(names[i]) : "extra" + std::to_string(i);
        raw[key] = std::string(piece);
    }
    check_validate_fields(raw, exact_second ? kNowExactSecond : kNow);
}

// ---- import: RecordReader then validate_fields ------------------------------------------------

// RecordReader's buffer (ByteSource's default capacity in ingest/src/byte_source.hpp). The
// boundary variant below pads the input so that this boundary falls inside it.
constexpr std::size_t kReaderBuffer = std::size_t{256} * 1024;

struct ReadResult {
    bool file_error = false;
    std::string file_error_text;
    std::size_t file_error_line = 0;
    std::vector<std::string> header;
    std::vector<ingest::Record> records;
    std::size_t lines_read = 0;
};

static ReadResult read_all(const std::string& bytes, ingest::Format format) {
    ReadResult r;
    std::istringstream in(bytes, std::ios::binary);
    try {
        ingest::RecordReader reader(in, format, known_fields());
        r.header = reader.header();
        ingest::Record rec;
        while (reader.next(rec)) r.records.push_back(rec);
        r.lines_read = reader.lines_read();
    } catch (const ingest::FileError& e) {
        r.file_error = true;
        r.file_error_text = e.what();
        r.file_error_line = e.line();
        require(one_line(r.file_error_text), "FileError message is not one line");
    }
    return r;
}

// The properties records.hpp documents for each record.
static void check_records(const ReadResult& r, ingest::Format format) {
    std::size_t last_line = 0;
    for (const auto& rec : r.records) {
        require(rec.line > last_line, "record lines do not increase");
        last_line = rec.line;
        require(one_line(rec.error), "record error is not one line: " + rec.error);
        if (format == ingest::Format::jsonl)
            require(rec.raw.find('\n') == std::string::npos, "JSON Lines raw holds a newline");
        if (!rec.error.empty()) continue;
        require(rec.raw.find('\0') == std::string::npos, "clean record holds a NUL byte");
        require(!rules::check_utf8(rec.raw), "clean record is not UTF-8");
        std::vector<std::string> seen;
        for (const auto& [name, value] : rec.fields) {
            require(rules::is_field_name(name), "clean record holds unknown field " + name);
            require(!value.empty(), "clean record holds an empty value for " + name);
            for (const auto& s : seen) require(s != name, "clean record repeats field " + name);
            seen.push_back(name);
        }
    }
    if (!r.file_error && !r.records.empty())
        require(last_line <= r.lines_read, "a record starts after the last line read");
}

// The same file read across a buffer boundary must give the same records: `pad` blank lines in
// front shift every line number by `pad` and change nothing else (blank lines are skipped
// before the CSV header and between records alike). A leading BOM would no longer be at the
// start once padded, so the padded copy leaves it out (the reader strips it from the other).
static void check_buffer_boundary(std::string body, ingest::Format format, const ReadResult& plain,
                                  std::size_t boundary_at) {
    if (body.compare(0, 3, "\xEF\xBB\xBF") == 0) body.erase(0, 3);
    if (body.empty()) return;
    boundary_at %= body.size() + 1;
    const std::size_t pad = kReaderBuffer - boundary_at;
    ReadResult padded = read_all(std::string(pad, '\n') + body, format);
    require(padded.file_error == plain.file_error, "buffer boundary: file error differs");
    if (plain.file_error) {
        require(padded.file_error_text == plain.file_error_text,
                "buffer boundary: file error text differs: " + plain.file_error_text + " / " +
                    padded.file_error_text);
        return;
    }
    require(padded.records.size() == plain.records.size(), "buffer boundary: record count differs");
    for (std::size_t i = 0; i < plain.records.size(); ++i) {
        const auto& a = plain.records[i];
        const auto& b = padded.records[i];
        require(b.line == a.line + pad,
                "buffer boundary: line differs at record " + std::to_string(i));
        require(b.raw == a.raw, "buffer boundary: raw differs at record " + std::to_string(i));
        require(b.fields == a.fields,
                "buffer boundary: fields differ at record " + std::to_string(i));
        require(b.error == a.error, "buffer boundary: error differs at record " +
                                        std::to_string(i) + ": '" + a.error + "' / '" + b.error +
                                        "'");
    }
    require(padded.lines_read == plain.lines_read + pad, "buffer boundary: lines_read differs");
}

// Rejected rows written back (RejectWriter): never throws; JSON Lines output is one JSON object
// a line carrying the reason under "error".
static void check_rejects(
    const ReadResult& r, ingest::Format format,
    const std::vector<std::pair<const ingest::Record*, std::string>>& rejected) {
    std::ostringstream out;
    ingest::RejectWriter writer(out, format, r.header);
    for (const auto& [rec, reason] : rejected) writer.write(*rec, reason);
    if (format != ingest::Format::jsonl) return;
    std::istringstream lines(out.str());
    std::string line;
    std::size_t i = 0;
    while (std::getline(lines, line)) {
        require(i < rejected.size(), "RejectWriter wrote more lines than rows");
        const auto j = nlohmann::json::parse(line, nullptr, false);
        require(j.is_object(), "RejectWriter: JSON Lines reject is not an object: " + line);
        require(j.contains("error") && j["error"].is_string() &&
                    j["error"].get<std::string>() == rejected[i].second,
                "RejectWriter: reject lacks its reason: " + line);
        ++i;
    }
    require(i == rejected.size(), "RejectWriter wrote fewer lines than rows");
}

// Input: byte 0 selects the format (bit 0: 0 csv, 1 jsonl) and the buffer-boundary variant
// (bits 1 and 2 both set: it reads 256 KiB more, so it is kept to a quarter of the inputs);
// bytes 1-2 (little-endian) place the boundary; the rest is the file.
void import_one(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return;
    const auto format = (data[0] & 1) != 0 ? ingest::Format::jsonl : ingest::Format::csv;
    const bool boundary = (data[0] & 6) == 6;
    const std::size_t boundary_at = data[1] | (std::size_t{data[2]} << 8);
    const std::string body(reinterpret_cast<const char*>(data) + 3, size - 3);

    const ReadResult r = read_all(body, format);
    check_records(r, format);
    std::vector<std::pair<const ingest::Record*, std::string>> rejected;
    for (const auto& rec : r.records) {
        if (!rec.error.empty()) {
            rejected.emplace_back(&rec, rec.error);
            continue;
        }
        rules::RawFields raw;
        for (const auto& [name, value] : rec.fields) raw[name] = value;
        check_validate_fields(raw);
        auto result = rules::validate_fields(raw, kNow);
        if (const auto* bad = std::get_if<rules::FieldError>(&result))
            rejected.emplace_back(&rec, bad->message());
    }
    check_rejects(r, format, rejected);
    if (boundary) check_buffer_boundary(body, format, r, boundary_at);
}

// ---- command_from_entry and the machine --------------------------------------------------------

// A fresh ticket driven to `state` along the usual path (see tests/engine/machine_test.cpp).
static engine::Machine machine_in(int which) {
    rules::Fields f;
    f.ref = "HD-FUZZ-1";
    f.phone = "+491512345678";
    f.client_id = "acct-1";
    f.requester_email = "owner@example.com";
    f.requester_role = which == 1 ? rules::Role::unknown : rules::Role::client;
    f.portfolio_access = which == 1 ? rules::Access::unknown : rules::Access::no;
    f.submitted_at = "2026-03-01T09:00:00Z";
    engine::Machine m(f, "2026-03-01T10:00:00.000Z");
    auto fire = [&](engine::EventKind k, const char* agent, auto&&... set) {
        engine::Command c;
        c.kind = k;
        c.agent = agent;
        c.at = "2026-03-01T10:00:01.000Z";
        (set(c), ...);
        require(m.fire(c).accepted, "fuzz setup: event refused");
    };
    if (which == 0) return m;  // received
    fire(engine::EventKind::triage, "a1");
    if (which <= 1) return m;  // awaiting_requester / identity_check
    for (const char* check : {"client_of_record", "number_ownership", "lost_access"})
        fire(engine::EventKind::check_passed, "a1", [&](engine::Command& c) { c.check = check; });
    if (which == 2) return m;  // identity_check, all passed
    fire(engine::EventKind::approve, "a2");
    if (which == 3) return m;  // approved
    fire(engine::EventKind::submit_disable, "a2", [](engine::Command& c) { c.reference = "W-1"; });
    return m;  // disable_submitted
}

static bool same_command(const engine::Command& a, const engine::Command& b) {
    return a.kind == b.kind && a.agent == b.agent && a.at == b.at && a.check == b.check &&
           a.note == b.note && a.reference == b.reference && a.role == b.role &&
           a.access == b.access && a.requester_email == b.requester_email && a.now == b.now &&
           a.sla_hours == b.sla_hours;
}

// parse_flat_object is a fast path in front of nlohmann: whatever it accepts, nlohmann must read
// as an object with the same members (same keys in the same order, same kinds, same values).
static void flat_json_one(std::string_view text) {
    const auto flat = engine::parse_flat_object(text);
    if (!flat) return;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    require(!j.is_discarded() && j.is_object(), "parse_flat_object accepted what nlohmann refuses");
    const auto reference = engine::flat_members(j);
    require(reference.size() == flat->size(), "parse_flat_object: another number of members");
    for (std::size_t i = 0; i < flat->size(); ++i) {
        const auto &a = (*flat)[i], &b = reference[i];
        require(a.key == b.key && a.kind == b.kind && a.text == b.text && a.integer == b.integer,
                "parse_flat_object: member '" + std::string(b.key) + "' differs from nlohmann's");
    }
}

// Input: byte 0 picks the event (index into all_events(); past the end, the name is read up to
// the first newline instead), the rest is the details JSON as a log entry would hold it.
// command_from_entry must either throw engine::Error or return a command that validates, whose
// details are exactly the details given, and that every machine state judges without throwing.
void command_one(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    const auto& events = engine::all_events();
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string event;
    if (data[0] < events.size()) {
        event = std::string(engine::to_string(events[data[0]]));
    } else {
        const auto nl = rest.find('\n');
        event = std::string(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    flat_json_one(rest);
    const auto details = nlohmann::json::parse(rest, nullptr, false);
    if (details.is_discarded()) return;
    engine::Command c;
    try {
        c = engine::command_from_entry(event, details, "a3", "2026-03-01T10:00:02.000Z");
    } catch (const engine::Error& e) {
        require(e.kind() == engine::ErrorKind::integrity, "command_from_entry: wrong error kind");
        return;
    }
    try {
        engine::validate(c, rules::Origin::log);
    } catch (const engine::Error& e) {
        require(false, std::string("command_from_entry returned an invalid command: ") + e.what());
    }
    require(engine::details_of(c) == details, "details_of does not give back the stored details");
    const auto again = engine::command_from_entry(event, engine::details_of(c), c.agent, c.at);
    require(same_command(again, c), "command_from_entry(details_of(c)) != c");
    for (int which = 0; which < 5; ++which) {
        engine::Machine m = machine_in(which);
        const engine::Ticket before = m.ticket();
        const engine::Outcome o = m.fire(c);
        if (which == 1 && c.kind == engine::EventKind::expire) {
            // R7, judged here without overflow: accepted iff the wait exceeds the SLA.
            const auto last = rules::parse_utc(before.updated_at);
            const auto at = rules::parse_utc(c.at);
            auto now = rules::parse_utc(c.now.value_or(c.at));
            require(last && now && at, "fuzz setup: unreadable time");
            if (*now > *at) now = at;  // SPEC §12: never judged later than the entry's own time
            const std::int64_t waited = *now - *last;
            const std::int64_t sla = c.sla_hours.value_or(rules::kDefaultSlaHours);
            const bool elapsed = waited >= 1 && sla <= (waited - 1) / 3600000;
            require(o.accepted == elapsed, "expire judged the SLA wrongly: waited " +
                                               std::to_string(waited) + " ms, SLA " +
                                               std::to_string(sla) + " h");
        }
        if (!o.accepted) {
            require(o.refusal.has_value() && o.state == before.state &&
                        m.ticket().version == before.version && m.ticket().fields == before.fields,
                    "a refused event changed the ticket");
        }
    }
}

int run_target(const char* name, void (*target)(const std::uint8_t*, std::size_t),
               const std::uint8_t* data, std::size_t size) {
    try {
        target(data, size);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: unexpected exception: %s\n", name, e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "%s: unexpected non-standard exception\n", name);
        std::abort();
    }
    return 0;
}

}  // namespace tfadesk::fuzz
