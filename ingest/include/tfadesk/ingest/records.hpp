// Reading the records of an import file (SPEC §5) and writing back the rejected ones.
//
// Two formats: CSV (RFC 4180: header row, quoted fields holding commas, doubled quotes, CR and
// LF; records ending at LF or CRLF; an optional UTF-8 BOM) and JSON Lines (one object a line).
// This layer knows nothing of the ticket's fields beyond the list of accepted names it is
// given: it splits records, checks their structure and their UTF-8, and hands out
// (name, value) pairs for the validator. No dependency on any other tfadesk target.
//
// Invariants:
// - Streaming: memory is bounded by the longest record (and never exceeds about 2 x 16 MiB
//   for one record plus a fixed read buffer), however long the file.
// - Line numbers are physical lines counted from 1 (the CSV header is line 1); LF and CRLF
//   each end one line. A record is reported at the line where it starts.
// - A malformed record is a value (Record::error), never an exception; only problems with the
//   file as a whole throw FileError. Every message is one line of text.
// - Record::raw is the record's bytes as in the file, so rejected rows can be written back
//   unchanged.
#pragma once

#include <cstddef>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tfadesk::ingest {

enum class Format { csv, jsonl };

// The format of an import: the --format value when one is given ("csv" or "jsonl", any case),
// else the file name's extension (.csv -> csv; .jsonl or .ndjson -> jsonl; any case). Nothing
// when neither decides, and nothing for an unrecognised --format value (it is a mistake to
// report, not something to guess past).
std::optional<Format> pick_format(std::optional<std::string_view> flag, std::string_view file_name);

// An error about the file as a whole: no header, an unknown, empty or duplicate column, an
// unknown key in a JSON Lines object, an unreadable stream. what() is the reason alone;
// line() is the physical line (1-based) it concerns, or 0 when it concerns no line.
class FileError : public std::runtime_error {
public:
    FileError(std::size_t line, const std::string& what);
    std::size_t line() const noexcept;

private:
    std::size_t line_;
};

// One record of the file, as RecordReader::next() fills it. The caller may reuse one Record
// across calls: its strings keep their capacity.
struct Record {
    // Physical line (1-based; the CSV header is line 1) where the record starts.
    std::size_t line = 0;
    // The record's bytes exactly as in the file, without its final line terminator (LF, CRLF,
    // or a lone CR at the very end of the input). Line breaks inside quotes are kept as they
    // were. A UTF-8 BOM at the start of the file is not part of it.
    std::string raw;
    // Column (CSV) or key (JSON Lines) name -> value, in file order, NON-EMPTY values only: an
    // empty cell is a missing one (SPEC §5). JSON Lines: strings as they are, integers as
    // their decimal text, null as missing.
    std::vector<std::pair<std::string, std::string>> fields;
    // Empty, or why this record is malformed: one human-readable line naming the column where
    // there is one. CSV: unterminated quote, stray quote in an unquoted field, text after a
    // closing quote, CR outside quotes not followed by LF, wrong number of fields. JSON Lines:
    // not valid JSON, not an object, a duplicate key, a value that is not a string, an integer
    // or null. Both: invalid UTF-8, a NUL character, a record over 16 MiB. `fields` is still
    // filled as far as it could be, but callers should not trust it.
    std::string error;
};

// Reads the records of one import file, one at a time.
class RecordReader {
public:
    // Reads from `in`, which the caller opened in binary mode. `known` lists the accepted
    // column / key names (exact, case-sensitive match).
    // CSV: reads the header at once. A UTF-8 BOM is stripped, blank lines before the header are
    // skipped and spaces and tabs around each name are trimmed. Throws FileError(line, ...)
    // for "empty file: no header row", "unknown column 'x' (expected one of: a, b)",
    // "duplicate column 'x'", an empty name, a malformed header or one that is not UTF-8.
    // JSON Lines: a BOM at the start of line 1 is stripped.
    // Throws FileError(0, ...) when `in` is already failed or a read fails (badbit).
    RecordReader(std::istream& in, Format format, std::vector<std::string> known);
    ~RecordReader();
    RecordReader(RecordReader&&) noexcept;
    RecordReader& operator=(RecordReader&&) noexcept;
    RecordReader(const RecordReader&) = delete;
    RecordReader& operator=(const RecordReader&) = delete;

    // Fills `out` with the next record and returns true; returns false at the end of input.
    // Blank lines (empty or a lone CR) are skipped, not records, but are counted. A malformed
    // record comes back with `out.error` set; the reader goes on with the next one.
    // JSON Lines: an object holding a key not in `known` throws FileError(line, "unknown key
    // 'x' (expected one of: ...)"): unknown columns are an error for the whole file.
    // Throws FileError(0, ...) when a read fails.
    bool next(Record& out);

    // CSV: the header names as in the file (after BOM strip and trim); JSON Lines: empty.
    const std::vector<std::string>& header() const;
    // Physical lines consumed so far (a last line without a terminator counts once it is read).
    std::size_t lines_read() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Writes the rejected records of `import --rejects OUT`: the rows unchanged, in the input's
// format, with the reason added.
// CSV: the first line is the header (`header`, each name CSV-quoted when needed) + ",error";
// then one line per record: its `raw` + "," + the reason CSV-quoted when needed. Lines end in
// "\n" (a record's own embedded line breaks stay as they were). A header that already has an
// `error` column still gets one more (the importer refuses such a file anyway).
// JSON Lines (`header` unused): when `raw` is a JSON object, the same text with
// "error": reason added as its last key (or the reason replacing the value of an existing
// "error" key, the object then being re-serialised); otherwise the object
// {"error": reason, "raw": raw}, invalid UTF-8 in raw replaced by U+FFFD. One line each.
// Never throws on odd input; stream errors are left in the stream's state.
class RejectWriter {
public:
    RejectWriter(std::ostream& out, Format format, const std::vector<std::string>& header);
    void write(const Record& r, std::string_view error);

private:
    std::ostream& out_;
    Format format_;
};

// `value` CSV-quoted (wrapped in quotes, inner quotes doubled) when it holds a comma, a quote,
// a CR or an LF; otherwise `value` unchanged.
std::string csv_quote(std::string_view value);

}  // namespace tfadesk::ingest
