// Tests of the ingest library (SPEC §5): RFC 4180 CSV and JSON Lines reading, line numbers,
// UTF-8 checks, file-level errors, reject files read back, and streaming a long file.
// Every expected value here is typed in from the spec and RFC 4180, not derived from the code.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "tfadesk/ingest/records.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using tfadesk::ingest::csv_quote;
using tfadesk::ingest::FileError;
using tfadesk::ingest::Format;
using tfadesk::ingest::pick_format;
using tfadesk::ingest::Record;
using tfadesk::ingest::RecordReader;
using tfadesk::ingest::RejectWriter;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// The §2 field names.
std::vector<std::string> ticket_fields() {
    return {"ref",
            "phone",
            "client_id",
            "requester_email",
            "requester_role",
            "portfolio_access",
            "reason",
            "waba_id",
            "portfolio_id",
            "submitted_at",
            "note"};
}

struct ReadResult {
    std::vector<Record> records;
    std::vector<std::string> header;
    std::size_t lines_read = 0;
};

ReadResult read_all(const std::string& text, Format format,
                    std::vector<std::string> known = ticket_fields()) {
    std::istringstream in(text, std::ios::in | std::ios::binary);
    RecordReader reader(in, format, std::move(known));
    ReadResult result;
    Record rec;  // reused, as the importer does
    while (reader.next(rec)) result.records.push_back(rec);
    result.header = reader.header();
    result.lines_read = reader.lines_read();
    return result;
}

std::vector<Record> csv(const std::string& text) { return read_all(text, Format::csv).records; }
std::vector<Record> jsonl(const std::string& text) { return read_all(text, Format::jsonl).records; }

std::optional<std::string> value_of(const Record& r, std::string_view name) {
    for (const auto& [key, value] : r.fields) {
        if (key == name) return value;
    }
    return std::nullopt;
}

// The FileError thrown while reading all of `text`; fails the test when none is thrown.
FileError file_error(const std::string& text, Format format) {
    try {
        read_all(text, format);
    } catch (const FileError& e) {
        return e;
    }
    FAIL("no FileError thrown");
    return FileError(0, "");
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

TEST_CASE("pick_format: the flag decides, else the extension, else nothing") {
    CHECK(pick_format(std::nullopt, "tickets.csv") == Format::csv);
    CHECK(pick_format(std::nullopt, "dir.v2/tickets.CSV") == Format::csv);
    CHECK(pick_format(std::nullopt, "tickets.jsonl") == Format::jsonl);
    CHECK(pick_format(std::nullopt, "tickets.NDJSON") == Format::jsonl);
    CHECK(pick_format("jsonl", "tickets.csv") == Format::jsonl);
    CHECK(pick_format("CSV", "tickets.jsonl") == Format::csv);
    CHECK_FALSE(pick_format(std::nullopt, "tickets.txt").has_value());
    CHECK_FALSE(pick_format(std::nullopt, "-").has_value());
    CHECK_FALSE(pick_format(std::nullopt, "csv").has_value());
    CHECK_FALSE(pick_format("xml", "tickets.csv").has_value());
}

TEST_CASE("csv_quote quotes only when needed and doubles quotes") {
    CHECK(csv_quote("plain text") == "plain text");
    CHECK(csv_quote(" spaced ") == " spaced ");
    CHECK(csv_quote("a,b") == "\"a,b\"");
    CHECK(csv_quote("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(csv_quote("two\nlines") == "\"two\nlines\"");
    CHECK(csv_quote("cr\r") == "\"cr\r\"");
    CHECK(csv_quote("") == "");
}

TEST_CASE("CSV: plain records") {
    const auto r = read_all("ref,phone\nA1,+33123456789\nA2,+4412345678\n", Format::csv);
    REQUIRE(r.records.size() == 2);
    CHECK(r.header == std::vector<std::string>{"ref", "phone"});
    CHECK(r.records[0].line == 2);
    CHECK(r.records[0].raw == "A1,+33123456789");
    CHECK(r.records[0].error.empty());
    CHECK(r.records[0].fields == Fields{{"ref", "A1"}, {"phone", "+33123456789"}});
    CHECK(r.records[1].line == 3);
    CHECK(r.records[1].fields == Fields{{"ref", "A2"}, {"phone", "+4412345678"}});
    CHECK(r.lines_read == 3);
}

TEST_CASE("CSV: quoted fields") {
    SUBCASE("a comma inside quotes") {
        const auto recs = csv("ref,note\nA1,\"one, two\"\n");
        REQUIRE(recs.size() == 1);
        CHECK(recs[0].error.empty());
        CHECK(value_of(recs[0], "note") == "one, two");
        CHECK(recs[0].raw == "A1,\"one, two\"");
    }
    SUBCASE("doubled quotes") {
        const auto recs = csv("ref,note\nA1,\"say \"\"hi\"\"\"\nA2,\"\"\"\"\n");
        REQUIRE(recs.size() == 2);
        CHECK(value_of(recs[0], "note") == "say \"hi\"");
        CHECK(value_of(recs[1], "note") == "\"");
        CHECK(recs[1].error.empty());
    }
    SUBCASE("a quoted header name") {
        const auto r = read_all("\"ref\",\"note\"\nA1,x\n", Format::csv);
        CHECK(r.header == std::vector<std::string>{"ref", "note"});
        CHECK(r.records.at(0).fields == Fields{{"ref", "A1"}, {"note", "x"}});
    }
}

TEST_CASE("CSV: an embedded LF spans two lines; the next record accounts for it") {
    const std::string text = "ref,note\nA1,\"line one\nline two\"\nA2,x\n";
    const auto r = read_all(text, Format::csv);
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0].line == 2);
    CHECK(r.records[0].raw == "A1,\"line one\nline two\"");
    CHECK(value_of(r.records[0], "note") == "line one\nline two");
    CHECK(r.records[0].error.empty());
    CHECK(r.records[1].line == 4);
    CHECK(r.records[1].raw == "A2,x");
    CHECK(r.lines_read == 4);
}

TEST_CASE("CSV: an embedded CRLF with CRLF line endings") {
    const std::string text = "ref,note\r\nA1,\"a\r\nb\r\nc\"\r\nA2,x\r\n";
    const auto r = read_all(text, Format::csv);
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0].line == 2);
    CHECK(r.records[0].raw == "A1,\"a\r\nb\r\nc\"");
    CHECK(value_of(r.records[0], "note") == "a\r\nb\r\nc");
    CHECK(r.records[1].line == 5);
    CHECK(r.records[1].raw == "A2,x");
    CHECK(value_of(r.records[1], "note") == "x");
    CHECK(r.lines_read == 5);
}

TEST_CASE("CSV: CRLF line endings leave no CR in values or raw") {
    const auto r = read_all("ref,phone\r\nA1,+33123456789\r\nA2,\r\n", Format::csv);
    CHECK(r.header == std::vector<std::string>{"ref", "phone"});
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0].fields == Fields{{"ref", "A1"}, {"phone", "+33123456789"}});
    CHECK(r.records[0].raw == "A1,+33123456789");
    CHECK(r.records[1].fields == Fields{{"ref", "A2"}});
    CHECK(r.records[1].error.empty());
}

TEST_CASE("CSV: a UTF-8 BOM is stripped from the header") {
    const auto r = read_all("\xEF\xBB\xBFref,phone\nA1,+33123456789\n", Format::csv);
    CHECK(r.header == std::vector<std::string>{"ref", "phone"});
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0].line == 2);
    CHECK(value_of(r.records[0], "ref") == "A1");
}

TEST_CASE("CSV: the last record may lack its newline") {
    SUBCASE("LF file") {
        const auto r = read_all("ref,note\nA1,x\nA2,\"y\"", Format::csv);
        REQUIRE(r.records.size() == 2);
        CHECK(r.records[1].line == 3);
        CHECK(r.records[1].raw == "A2,\"y\"");
        CHECK(value_of(r.records[1], "note") == "y");
        CHECK(r.records[1].error.empty());
        CHECK(r.lines_read == 3);
    }
    SUBCASE("a lone CR at the very end is a terminator") {
        const auto recs = csv("ref,note\r\nA1,x\r");
        REQUIRE(recs.size() == 1);
        CHECK(recs[0].error.empty());
        CHECK(recs[0].raw == "A1,x");
        CHECK(value_of(recs[0], "note") == "x");
    }
}

TEST_CASE("CSV: blank lines are skipped but counted") {
    const auto r = read_all("ref,note\nA1,x\n\n\r\nA2,y\n\n", Format::csv);
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0].line == 2);
    CHECK(r.records[1].line == 5);
    CHECK(value_of(r.records[1], "note") == "y");
    CHECK(r.lines_read == 6);
}

TEST_CASE("CSV: header names are trimmed; quoted and unquoted values are not") {
    const auto r = read_all(" ref ,\tnote , phone\nA1,  padded  ,\" quoted \"\n", Format::csv);
    CHECK(r.header == std::vector<std::string>{"ref", "note", "phone"});
    REQUIRE(r.records.size() == 1);
    CHECK(value_of(r.records[0], "note") == "  padded  ");
    CHECK(value_of(r.records[0], "phone") == " quoted ");
}

TEST_CASE("CSV: columns in any order map to their own names") {
    const auto recs = csv("note,phone,ref\nhello,+33123456789,A1\n");
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].fields == Fields{{"note", "hello"}, {"phone", "+33123456789"}, {"ref", "A1"}});
}

TEST_CASE("CSV: empty cells are missing fields") {
    const auto recs = csv("ref,phone,note\nA1,,\"\"\n,,x\n");
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].fields == Fields{{"ref", "A1"}});
    CHECK(recs[0].error.empty());
    CHECK(recs[1].fields == Fields{{"note", "x"}});
}

TEST_CASE("CSV: a reused Record carries nothing over from the one before") {
    std::istringstream in("ref,phone,note\nA1,+33123456789,long note\nA2,,\n", std::ios::binary);
    RecordReader reader(in, Format::csv, ticket_fields());
    Record rec;
    REQUIRE(reader.next(rec));
    CHECK(rec.fields.size() == 3);
    REQUIRE(reader.next(rec));
    CHECK(rec.fields == Fields{{"ref", "A2"}});
    CHECK(rec.raw == "A2,,");
    CHECK_FALSE(reader.next(rec));
}

TEST_CASE("CSV: file-level errors") {
    SUBCASE("unknown column") {
        const FileError e = file_error("ref,phone,colour\nA1,+33123456789,red\n", Format::csv);
        CHECK(e.line() == 1);
        CHECK(contains(e.what(), "unknown column 'colour'"));
        CHECK(contains(e.what(), "expected one of: ref, phone,"));
    }
    SUBCASE("an empty column name") {
        const FileError e = file_error("ref,phone,\nA1,+33123456789,\n", Format::csv);
        CHECK(e.line() == 1);
        CHECK(contains(e.what(), "empty column name"));
    }
    SUBCASE("duplicate column, after trimming") {
        const FileError e = file_error("ref,phone, ref\nA1,+33123456789,A1\n", Format::csv);
        CHECK(e.line() == 1);
        CHECK(std::string(e.what()) == "duplicate column 'ref'");
    }
    SUBCASE("a long header repeating names") {
        const FileError e = file_error(
            "ref,phone,client_id,requester_email,requester_role,portfolio_access,reason,waba_id,"
            "portfolio_id,submitted_at,note,ref,ref,ref\n",
            Format::csv);
        CHECK(std::string(e.what()) == "duplicate column 'ref'");
    }
    SUBCASE("empty file") {
        const FileError e = file_error("", Format::csv);
        CHECK(e.line() == 1);
        CHECK(std::string(e.what()) == "empty file: no header row");
    }
    SUBCASE("only a BOM and blank lines") {
        const FileError e = file_error("\xEF\xBB\xBF\n\r\n", Format::csv);
        CHECK(std::string(e.what()) == "empty file: no header row");
    }
    SUBCASE("a header that is not UTF-8") {
        const FileError e = file_error("ref,ph\xFFone\n", Format::csv);
        CHECK(e.line() == 1);
        CHECK(contains(e.what(), "invalid UTF-8"));
    }
    SUBCASE("an unreadable stream") {
        std::istringstream in("ref\nA1\n");
        in.setstate(std::ios::failbit);
        CHECK_THROWS_AS(RecordReader(in, Format::csv, ticket_fields()), FileError);
    }
}

TEST_CASE("CSV: a header-only file has no records") {
    const auto r = read_all("ref,phone\n", Format::csv);
    CHECK(r.records.empty());
    CHECK(r.header.size() == 2);
    CHECK(r.lines_read == 1);
}

TEST_CASE("CSV: a wrong number of fields is an error of that record at its line") {
    const auto recs =
        csv("ref,phone,note\nA1,\"x\ny\",z\nA2,+33123456789\nA3,+1,n,extra\nA4,+2,n\n");
    REQUIRE(recs.size() == 4);
    CHECK(recs[0].error.empty());
    CHECK(recs[1].line == 4);
    CHECK(recs[1].error == "wrong number of fields: expected 3 (one per header column), found 2");
    CHECK(recs[2].line == 5);
    CHECK(contains(recs[2].error, "found 4"));
    CHECK(recs[3].line == 6);
    CHECK(recs[3].error.empty());
}

TEST_CASE("CSV: an unterminated quote at the end of the file") {
    const auto r = read_all("ref,note\nA1,ok\nA2,\"never closed\nstill open\n", Format::csv);
    REQUIRE(r.records.size() == 2);
    const Record& bad = r.records[1];
    CHECK(bad.line == 3);
    CHECK(contains(bad.error, "unterminated quoted field in column 'note'"));
    CHECK(bad.raw == "A2,\"never closed\nstill open\n");
    CHECK(r.lines_read == 4);
}

TEST_CASE("CSV: stray quotes and text after a closing quote") {
    SUBCASE("a quote inside an unquoted value") {
        const auto recs = csv("ref,note\nA1,say \"hi\"\nA2,fine\n");
        REQUIRE(recs.size() == 2);
        CHECK(contains(recs[0].error, "quote inside an unquoted value in column 'note'"));
        CHECK(recs[0].raw == "A1,say \"hi\"");
        CHECK(recs[1].error.empty());
        CHECK(recs[1].line == 3);
    }
    SUBCASE("text after the closing quote") {
        const auto recs = csv("ref,note\n\"A1\"x,n\nA2,fine\n");
        REQUIRE(recs.size() == 2);
        CHECK(recs[0].error == "unexpected text after the closing quote in column 'ref'");
        CHECK(recs[1].error.empty());
    }
    SUBCASE("a CR not followed by LF outside quotes") {
        const auto recs = csv("ref,note\nA1,a\rb\nA2,fine\n");
        REQUIRE(recs.size() == 2);
        CHECK(contains(recs[0].error, "carriage return"));
        CHECK(contains(recs[0].error, "column 'note'"));
        CHECK(recs[1].line == 3);
    }
    SUBCASE("a fault past the header's columns is named by position") {
        const auto recs = csv("ref,note\nA1,n,x\"y\n");
        REQUIRE(recs.size() == 1);
        CHECK(contains(recs[0].error, "field 3"));
    }
}

TEST_CASE("CSV: invalid UTF-8 is an error naming the column") {
    const std::vector<std::pair<const char*, std::string>> cases = {
        {"overlong slash", "\xC0\xAF"},
        {"overlong 3-byte", std::string("\xE0\x80\xAF")},
        {"surrogate", "\xED\xA0\x80"},
        {"above U+10FFFF", "\xF4\x90\x80\x80"},
        {"truncated sequence", std::string("\xE6\x97") + "x"},
        {"lone continuation byte", "\x80"},
        {"Latin-1 e acute", "caf\xE9"},
    };
    for (const auto& [name, bytes] : cases) {
        CAPTURE(name);
        const auto recs = csv("ref,note\nA1," + bytes + "\nA2,ok\n");
        REQUIRE(recs.size() == 2);
        CHECK(recs[0].error == "invalid UTF-8 in column 'note'");
        CHECK(recs[0].raw == "A1," + bytes);
        CHECK(recs[1].error.empty());
    }
}

TEST_CASE("CSV: a NUL byte is an error naming the column") {
    const auto recs = csv(std::string("ref,note\nA1,a\0b\n", 16));
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].error == "control character NUL in column 'note'");
}

TEST_CASE("CSV: non-ASCII text is kept byte for byte") {
    const std::string text =
        "ref,note,client_id\n"
        "A1,caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80,"
        "\"\xE2\x82\xAC, \xF0\x9F\x87\xAB\xF0\x9F\x87\xB7\"\n";
    const auto recs = csv(text);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].error.empty());
    CHECK(value_of(recs[0], "note") == "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80");
    CHECK(value_of(recs[0], "client_id") == "\xE2\x82\xAC, \xF0\x9F\x87\xAB\xF0\x9F\x87\xB7");
}

TEST_CASE("CSV: a record over 16 MiB is an error, not a crash") {
    std::string text = "ref,note\nA1,\"";
    text.append(std::size_t{17} * 1024 * 1024, 'x');
    text += "\"\nA2,ok\n";
    const auto recs = csv(text);
    REQUIRE(recs.size() == 2);
    CHECK(contains(recs[0].error, "longer than 16 MiB"));
    CHECK(recs[1].line == 3);
    CHECK(recs[1].error.empty());
}

TEST_CASE("CSV: records straddling buffer boundaries parse the same") {
    // Records of every shape, repeated with shifting lengths, so that reads of a large buffer
    // end inside quotes, between a quote pair, between CR and LF, inside UTF-8 sequences...
    const std::vector<std::string> notes = {"plain",
                                            "with, comma",
                                            "say \"hi\"",
                                            "two\r\nlines",
                                            "lf\nonly",
                                            "\xE6\x97\xA5\xE6\x9C\xAC",
                                            "",
                                            "\"",
                                            "trailing cr\r\n"};
    std::string text = "ref,note,phone\r\n";
    std::vector<std::string> expected_note;
    std::vector<std::size_t> expected_line;
    std::size_t line = 2;
    for (int i = 0; i < 60000; ++i) {
        const std::string note = notes[static_cast<std::size_t>(i) % notes.size()] +
                                 std::string(static_cast<std::size_t>(i % 7), 'z');
        expected_note.push_back(note);
        expected_line.push_back(line);
        text += "R" + std::to_string(i) + "," + csv_quote(note) + ",+3312345678" +
                std::to_string(i % 10) + "\r\n";
        for (const char c : note) line += (c == '\n') ? 1 : 0;
        ++line;
    }
    const auto recs = csv(text);
    REQUIRE(recs.size() == expected_note.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        const bool ok = recs[i].error.empty() && recs[i].line == expected_line[i] &&
                        value_of(recs[i], "note").value_or("") == expected_note[i] &&
                        value_of(recs[i], "ref") == "R" + std::to_string(i);
        if (!ok) ++mismatches;
    }
    CHECK(mismatches == 0);
}

TEST_CASE("CSV: streams a 200,000-row file") {
    std::stringstream in(std::ios::in | std::ios::out | std::ios::binary);
    in << "ref,phone,note\n";
    std::size_t embedded = 0;
    for (int i = 1; i <= 200000; ++i) {
        in << "T" << i << ",+3361234" << (i % 10000) << ",";
        if (i % 1000 == 0) {
            in << "\"multi\nline\"\n";
            ++embedded;
        } else {
            in << "note " << i << "\n";
        }
    }
    RecordReader reader(in, Format::csv, ticket_fields());
    Record rec;
    std::size_t count = 0;
    std::size_t errors = 0;
    std::size_t last_line = 0;
    std::string last_ref;
    while (reader.next(rec)) {
        ++count;
        if (!rec.error.empty()) ++errors;
        last_line = rec.line;
        last_ref = value_of(rec, "ref").value_or("");
    }
    CHECK(count == 200000);
    CHECK(errors == 0);
    CHECK(embedded == 200);
    CHECK(last_line == 1 + 200000 + 199);  // the last row's own embedded LF comes after its start
    CHECK(last_ref == "T200000");
    CHECK(reader.lines_read() == 1 + 200000 + 200);
}

TEST_CASE("JSONL: objects to fields") {
    const auto r = read_all(
        "{\"ref\":\"A1\",\"phone\":\"+33123456789\",\"note\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}\n"
        "{\"waba_id\":1234567890123, \"ref\":\"A2\", \"portfolio_id\":-5}\n",
        Format::jsonl);
    REQUIRE(r.records.size() == 2);
    CHECK(r.header.empty());
    CHECK(r.records[0].line == 1);
    CHECK(r.records[0].error.empty());
    CHECK(r.records[0].fields == Fields{{"ref", "A1"},
                                        {"phone", "+33123456789"},
                                        {"note", "caf\xC3\xA9 \xF0\x9F\x98\x80"}});
    CHECK(r.records[0].raw ==
          "{\"ref\":\"A1\",\"phone\":\"+33123456789\",\"note\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}");
    CHECK(r.records[1].line == 2);
    CHECK(r.records[1].fields ==
          Fields{{"waba_id", "1234567890123"}, {"ref", "A2"}, {"portfolio_id", "-5"}});
}

TEST_CASE("JSONL: null and empty strings are missing; escapes are decoded") {
    const auto recs =
        jsonl("{\"ref\":\"A1\",\"note\":null,\"phone\":\"\",\"client_id\":\"a\\\"b\\u00e9\"}\n");
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].error.empty());
    CHECK(recs[0].fields == Fields{{"ref", "A1"}, {"client_id", "a\"b\xC3\xA9"}});
}

TEST_CASE("JSONL: values that are not strings, integers or null") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"true", "a boolean"},
        {"1.5", "a number with a fraction or an exponent"},
        {"1e3", "a number with a fraction or an exponent"},
        {"123456789012345678901234", "an integer over 64 bits (write it as a string)"},
        {"[1]", "an array"},
        {"{\"a\":1}", "an object"},
    };
    for (const auto& [value, kind] : cases) {
        CAPTURE(value);
        const auto recs = jsonl("{\"ref\":\"A1\",\"waba_id\":" + value + "}\n");
        REQUIRE(recs.size() == 1);
        CHECK(recs[0].error ==
              "column 'waba_id' must be a string, an integer or null, not " + kind);
    }
}

TEST_CASE("JSONL: malformed lines are errors of their line; reading goes on") {
    const auto recs = jsonl(
        "{\"ref\":\"A1\"}\n{\"ref\": \"A2\",\n[1,2]\n\"text\"\n"
        "{\"ref\":\"A3\",\"ref\":\"A4\"}\n{\"ref\":\"A5\"} x\n{\"ref\":\"A6\"}\n");
    REQUIRE(recs.size() == 7);
    CHECK(recs[0].error.empty());
    CHECK(recs[1].line == 2);
    CHECK(recs[1].raw == "{\"ref\": \"A2\",");
    CHECK(contains(recs[1].error, "invalid JSON at column"));
    CHECK(recs[2].line == 3);
    CHECK(recs[2].error == "not a JSON object (each line must hold one object)");
    CHECK(recs[3].error == "not a JSON object (each line must hold one object)");
    CHECK(recs[4].error == "duplicate key 'ref'");
    CHECK(contains(recs[5].error, "invalid JSON"));
    CHECK(recs[6].line == 7);
    CHECK(recs[6].error.empty());
    CHECK(recs[6].fields == Fields{{"ref", "A6"}});
}

TEST_CASE("JSONL: blank lines are skipped but counted; BOM and CRLF are handled") {
    const auto r =
        read_all("\xEF\xBB\xBF{\"ref\":\"A1\"}\r\n\r\n\n{\"ref\":\"A2\"}\r\n\n", Format::jsonl);
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0].line == 1);
    CHECK(r.records[0].raw == "{\"ref\":\"A1\"}");
    CHECK(r.records[0].error.empty());
    CHECK(r.records[1].line == 4);
    CHECK(r.records[1].raw == "{\"ref\":\"A2\"}");
    CHECK(r.lines_read == 5);
}

TEST_CASE("JSONL: invalid UTF-8 and NUL") {
    const auto recs = jsonl(
        "{\"ref\":\"A1\",\"note\":\"caf\xE9\"}\n{\"ref\":\"A\\u0000\"}\n"
        "{\"ref\":\"A3\"}\xFF\n{\"r\xE9\":\"A4\"}\n");
    REQUIRE(recs.size() == 4);
    CHECK(recs[0].error == "invalid UTF-8 in column 'note'");
    CHECK(recs[1].error == "control character NUL in column 'ref'");
    CHECK(recs[2].error == "invalid UTF-8");
    CHECK(recs[3].error == "invalid UTF-8 in a key name");
}

TEST_CASE("JSONL: an unknown key fails the whole file at its line") {
    const FileError e =
        file_error("{\"ref\":\"A1\"}\n\n{\"ref\":\"A2\",\"colour\":\"red\"}\n", Format::jsonl);
    CHECK(e.line() == 3);
    CHECK(contains(e.what(), "unknown key 'colour'"));
}

TEST_CASE("JSONL: keys inside a nested value are not checked against the known names") {
    const auto recs = jsonl("{\"ref\":\"A1\",\"note\":{\"anything\":1}}\n");
    REQUIRE(recs.size() == 1);
    CHECK(contains(recs[0].error, "column 'note'"));
}

TEST_CASE("RejectWriter: CSV rejects read back as the original rows plus an error column") {
    const std::string input =
        "ref,note,phone\r\n"
        "A1,\"multi\r\nline, with \"\"quotes\"\"\",+33 1\r\n"
        "A2,plain,\r\n"
        "A3,\"x\ny\",+1\n";
    const auto original = read_all(input, Format::csv);
    REQUIRE(original.records.size() == 3);

    const std::string reason = "bad phone, \"really\"";
    std::ostringstream out(std::ios::binary);
    RejectWriter writer(out, Format::csv, original.header);
    for (const auto& rec : original.records) writer.write(rec, reason);

    CHECK(out.str().substr(0, 21) == "ref,note,phone,error\n");
    auto known = ticket_fields();
    known.emplace_back("error");
    const auto back = read_all(out.str(), Format::csv, known);
    CHECK(back.header == std::vector<std::string>{"ref", "note", "phone", "error"});
    REQUIRE(back.records.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        Fields expected = original.records[i].fields;
        expected.emplace_back("error", reason);
        CHECK(back.records[i].error.empty());
        CHECK(back.records[i].fields == expected);
    }
    CHECK(back.records[0].line == 2);
    CHECK(back.records[1].line == 4);
    CHECK(back.records[2].line == 5);
}

TEST_CASE("RejectWriter: JSON Lines rejects keep the row and add an error key") {
    const auto recs = jsonl("{\"ref\":\"A1\", \"waba_id\":true}\n{\"ref\": \n{}\n");
    REQUIRE(recs.size() == 3);
    std::ostringstream out(std::ios::binary);
    RejectWriter writer(out, Format::jsonl, {});
    writer.write(recs[0], recs[0].error);
    writer.write(recs[1], "invalid \"JSON\"");
    writer.write(recs[2], "missing ref");
    const std::string expected =
        "{\"ref\":\"A1\", \"waba_id\":true,\"error\":\"column 'waba_id' must be a string, an "
        "integer or null, not a boolean\"}\n"
        "{\"error\":\"invalid \\\"JSON\\\"\",\"raw\":\"{\\\"ref\\\": \"}\n"
        "{\"error\":\"missing ref\"}\n";
    CHECK(out.str() == expected);

    auto known = ticket_fields();
    known.emplace_back("error");
    known.emplace_back("raw");
    const auto back = read_all(out.str(), Format::jsonl, known);
    REQUIRE(back.records.size() == 3);
    CHECK(value_of(back.records[1], "error") == "invalid \"JSON\"");
    CHECK(value_of(back.records[2], "error") == "missing ref");
}

TEST_CASE("RejectWriter: never throws on rows that are not UTF-8") {
    Record bad;
    bad.raw = "{\"ref\":\"caf\xE9\"}";
    std::ostringstream out(std::ios::binary);
    RejectWriter writer(out, Format::jsonl, {});
    CHECK_NOTHROW(writer.write(bad, "invalid UTF-8 in column 'ref'"));
    CHECK(contains(out.str(), "\"error\":\"invalid UTF-8 in column 'ref'\""));
}
