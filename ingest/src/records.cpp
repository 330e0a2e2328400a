// The library's public face: format choice, RecordReader over the CSV and JSON Lines parsers,
// the wording of every record and file error, RejectWriter and csv_quote. See records.hpp.
#include "tfadesk/ingest/records.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "byte_source.hpp"
#include "csv_parser.hpp"
#include "jsonl_parser.hpp"
#include "text.hpp"

namespace tfadesk::ingest {
namespace {

using detail::CsvFault;
using detail::printable;
using detail::TextFault;

char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

bool iends_with(std::string_view s, std::string_view suffix) noexcept {
    return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

std::string_view trim_blanks(std::string_view s) noexcept {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t");
    return s.substr(first, last - first + 1);
}

std::string expected_list(const std::vector<std::string>& known) {
    std::string list = "expected one of: ";
    for (std::size_t i = 0; i < known.size(); ++i) {
        if (i > 0) list += ", ";
        list += printable(known[i]);
    }
    return list;
}

std::string fault_message(CsvFault fault, const std::string& where) {
    switch (fault) {
        case CsvFault::oversize:
            return "record longer than 16 MiB (is a quote left open?)";
        case CsvFault::unterminated:
            return "unterminated quoted field in " + where + ": the file ends inside the quotes";
        case CsvFault::text_after_quote:
            return "unexpected text after the closing quote in " + where;
        case CsvFault::stray_quote:
            return "quote inside an unquoted value in " + where +
                   " (quote the whole value and double the quote)";
        case CsvFault::stray_cr:
            return "carriage return not followed by a line feed in " + where;
        case CsvFault::none:
            break;
    }
    return {};
}

std::string text_fault_message(TextFault fault, const std::string& where) {
    return fault == TextFault::nul ? "control character NUL in " + where
                                   : "invalid UTF-8 in " + where;
}

// A rejected JSON Lines row: see RejectWriter in records.hpp.
std::string jsonl_reject(const std::string& raw, std::string_view error) {
    using OrderedJson = nlohmann::ordered_json;
    constexpr auto replace = OrderedJson::error_handler_t::replace;
    const std::string reason(error);
    // A NUL would end nlohmann's input early: such a line is never treated as an object.
    OrderedJson parsed = raw.find('\0') == std::string::npos
                             ? OrderedJson::parse(raw, nullptr, false)
                             : OrderedJson(nullptr);
    if (parsed.is_object() && !parsed.contains("error")) {
        // Insert textually so the row's own bytes (spacing, escapes, number spelling) stay.
        const auto close = raw.rfind('}');
        std::string line = raw.substr(0, close);
        if (!parsed.empty()) line += ',';
        line += "\"error\":";
        line += OrderedJson(reason).dump(-1, ' ', false, replace);
        line.append(raw, close);
        return line;
    }
    if (parsed.is_object()) {
        parsed["error"] = reason;
        return parsed.dump(-1, ' ', false, replace);
    }
    OrderedJson wrapper = OrderedJson::object();
    wrapper["error"] = reason;
    wrapper["raw"] = raw;
    return wrapper.dump(-1, ' ', false, replace);
}

}  // namespace

std::optional<Format> pick_format(std::optional<std::string_view> flag,
                                  std::string_view file_name) {
    if (flag) {
        if (iequals(*flag, "csv")) return Format::csv;
        if (iequals(*flag, "jsonl")) return Format::jsonl;
        return std::nullopt;
    }
    if (iends_with(file_name, ".csv")) return Format::csv;
    if (iends_with(file_name, ".jsonl") || iends_with(file_name, ".ndjson")) return Format::jsonl;
    return std::nullopt;
}

FileError::FileError(std::size_t line, const std::string& what)
    : std::runtime_error(what), line_(line) {}

std::size_t FileError::line() const noexcept { return line_; }

struct RecordReader::Impl {
    Impl(std::istream& in, Format f, std::vector<std::string> names)
        : src(in), format(f), known(std::move(names)), csv(src), jsonl(known) {}

    void read_header();
    bool next_csv(Record& out);
    bool next_jsonl(Record& out);
    std::string csv_record_error() const;
    void move_cells_to(Record& out);
    std::string column_label(std::size_t field) const;

    detail::ByteSource src;
    Format format;
    std::vector<std::string> known;
    std::vector<std::string> header;
    detail::CsvParser csv;
    detail::CsvRow row;
    detail::JsonlParser jsonl;
};

void RecordReader::Impl::read_header() {
    std::string raw;
    // Keeping one cell more than there are known names is enough: a longer header must repeat
    // a name or hold an unknown one among its first known.size() + 1 cells.
    if (!csv.read(row, raw, known.size() + 1)) throw FileError(1, "empty file: no header row");
    const std::size_t line = row.line;
    const auto where = [](std::size_t i) { return "column " + std::to_string(i + 1) + " of"; };
    if (row.fault != CsvFault::none) {
        throw FileError(line, "malformed header: " +
                                  fault_message(row.fault, where(row.fault_field) + " the header"));
    }
    for (std::size_t i = 0; i < row.stored; ++i) {
        if (detail::scan_text(row.cells[i]) == TextFault::invalid_utf8) {
            throw FileError(line, "invalid UTF-8 in the header (" + where(i) + " it)");
        }
        const std::string_view name = trim_blanks(row.cells[i]);
        if (name.empty()) {
            throw FileError(line, "empty column name in the header (" + where(i) + " it)");
        }
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            throw FileError(
                line, "unknown column '" + printable(name) + "' (" + expected_list(known) + ")");
        }
        if (std::find(header.begin(), header.end(), name) != header.end()) {
            throw FileError(line, "duplicate column '" + printable(name) + "'");
        }
        header.emplace_back(name);
    }
    if (row.fields != row.stored) {  // only when `known` itself repeats a name
        throw FileError(line,
                        "too many columns in the header (" + std::to_string(row.fields) + ")");
    }
}

std::string RecordReader::Impl::column_label(std::size_t field) const {
    if (field < header.size()) return "column '" + printable(header[field]) + "'";
    return "field " + std::to_string(field + 1) + " (past the header's " +
           std::to_string(header.size()) + " columns)";
}

std::string RecordReader::Impl::csv_record_error() const {
    if (row.fault != CsvFault::none) return fault_message(row.fault, column_label(row.fault_field));
    if (row.fields != header.size()) {
        return "wrong number of fields: expected " + std::to_string(header.size()) +
               " (one per header column), found " + std::to_string(row.fields);
    }
    for (std::size_t i = 0; i < row.stored; ++i) {
        const TextFault fault = detail::scan_text(row.cells[i]);
        if (fault != TextFault::none) return text_fault_message(fault, column_label(i));
    }
    return {};
}

// Swaps the non-empty cells into out.fields, so both sides keep their strings' capacity.
void RecordReader::Impl::move_cells_to(Record& out) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < row.stored; ++i) {
        if (row.cells[i].empty()) continue;
        if (n == out.fields.size()) out.fields.emplace_back();
        out.fields[n].first.assign(header[i]);
        out.fields[n].second.swap(row.cells[i]);
        ++n;
    }
    out.fields.resize(n);
}

bool RecordReader::Impl::next_csv(Record& out) {
    if (!csv.read(row, out.raw, header.size())) return false;
    out.line = row.line;
    out.error = csv_record_error();
    move_cells_to(out);
    return true;
}

bool RecordReader::Impl::next_jsonl(Record& out) {
    for (;;) {
        const std::size_t line = src.lines() + 1;
        bool truncated = false;
        if (!src.read_line(out.raw, detail::max_record_bytes, truncated)) return false;
        if (out.raw.empty()) continue;  // blank line (a lone CR is stripped with the LF)
        out.line = line;
        if (truncated) {
            out.fields.clear();
            out.error = "line longer than 16 MiB";
            return true;
        }
        if (const auto unknown = jsonl.parse(out.raw, out)) {
            throw FileError(
                line, "unknown key '" + printable(*unknown) + "' (" + expected_list(known) + ")");
        }
        return true;
    }
}

RecordReader::RecordReader(std::istream& in, Format format, std::vector<std::string> known)
    : impl_(std::make_unique<Impl>(in, format, std::move(known))) {
    impl_->src.skip_bom();
    if (format == Format::csv) impl_->read_header();
}

RecordReader::~RecordReader() = default;
RecordReader::RecordReader(RecordReader&&) noexcept = default;
RecordReader& RecordReader::operator=(RecordReader&&) noexcept = default;

bool RecordReader::next(Record& out) {
    return impl_->format == Format::csv ? impl_->next_csv(out) : impl_->next_jsonl(out);
}

const std::vector<std::string>& RecordReader::header() const { return impl_->header; }

std::size_t RecordReader::lines_read() const { return impl_->src.lines_read(); }

RejectWriter::RejectWriter(std::ostream& out, Format format, const std::vector<std::string>& header)
    : out_(out), format_(format) {
    if (format_ != Format::csv) return;
    std::string line;
    for (const auto& name : header) {
        line += csv_quote(name);
        line += ',';
    }
    line += "error\n";
    out_ << line;
}

void RejectWriter::write(const Record& r, std::string_view error) {
    if (format_ == Format::csv) {
        out_ << r.raw << ',' << csv_quote(error) << '\n';
    } else {
        out_ << jsonl_reject(r.raw, error) << '\n';
    }
}

std::string csv_quote(std::string_view value) {
    if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
    std::string quoted;
    quoted.reserve(value.size() + 2);
    quoted += '"';
    for (const char c : value) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    quoted += '"';
    return quoted;
}

}  // namespace tfadesk::ingest
