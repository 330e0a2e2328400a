// RFC 4180 state machine; see csv_parser.hpp.
#include "csv_parser.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace tfadesk::ingest::detail {
namespace {

using ByteTable = std::array<bool, 256>;

constexpr ByteTable make_table(std::string_view specials) {
    ByteTable t{};
    for (const char c : specials) t[static_cast<unsigned char>(c)] = true;
    return t;
}

// Bytes that end a run of ordinary data in each state; everything else is copied in bulk.
constexpr ByteTable unquoted_special = make_table(",\"\r\n");
constexpr ByteTable quoted_special = make_table("\"\n");

// Offset of the first byte of data[from, to) that `table` marks, or `to`.
std::size_t run_end(const char* data, std::size_t from, std::size_t to, const ByteTable& table) {
    while (from != to && !table[static_cast<unsigned char>(data[from])]) ++from;
    return from;
}

}  // namespace

bool CsvParser::read(CsvRow& row, std::string& raw, std::size_t cell_limit) {
    raw.clear();
    row.stored = 0;
    row.fields = 0;
    row.fault = CsvFault::none;
    row.fault_field = 0;
    if (!src_.skip_blank_lines()) return false;
    row.line = src_.lines() + 1;
    row_ = &row;
    raw_ = &raw;
    cell_limit_ = cell_limit;
    cell_bytes_ = 0;
    mark_ = src_.pos();
    oversize_ = false;
    open_cell();
    const std::size_t terminator = scan();
    close_cell();
    flush_raw();
    if (!oversize_) raw.resize(raw.size() - terminator);
    return true;
}

std::size_t CsvParser::scan() {
    CsvState st = CsvState::field_start;
    for (;;) {
        if (st == CsvState::ended_lf) return 1;
        if (st == CsvState::ended_crlf) return 2;
        if (src_.pos() == src_.end() && !refill()) {
            if (st == CsvState::quoted) set_fault(CsvFault::unterminated);
            return st == CsvState::cr_pending ? 1 : 0;  // a final lone CR ends the record
        }
        switch (st) {
            case CsvState::field_start:
                st = at_field_start();
                break;
            case CsvState::unquoted:
                st = in_unquoted();
                break;
            case CsvState::quoted:
                st = in_quoted();
                break;
            case CsvState::quote_in_quoted:
                st = after_quote_in_quoted();
                break;
            case CsvState::cr_pending:
                st = after_cr();
                break;
            case CsvState::ended_lf:
            case CsvState::ended_crlf:
                break;
        }
    }
}

CsvState CsvParser::at_field_start() {
    if (src_.data()[src_.pos()] != '"') return CsvState::unquoted;
    src_.advance(1);
    return CsvState::quoted;
}

CsvState CsvParser::in_unquoted() {
    const char* const data = src_.data();
    const std::size_t at = src_.pos();
    const std::size_t stop = run_end(data, at, src_.end(), unquoted_special);
    append(data + at, stop - at);
    src_.advance(stop - at);
    if (stop == src_.end()) return CsvState::unquoted;
    src_.advance(1);
    switch (data[stop]) {
        case ',':
            next_cell();
            return CsvState::field_start;
        case '\n':
            src_.count_line();
            return CsvState::ended_lf;
        case '\r':
            return CsvState::cr_pending;
        default:  // a quote inside an unquoted field: kept as data
            set_fault(CsvFault::stray_quote);
            append(data + stop, 1);
            return CsvState::unquoted;
    }
}

CsvState CsvParser::in_quoted() {
    const char* const data = src_.data();
    const std::size_t at = src_.pos();
    const std::size_t stop = run_end(data, at, src_.end(), quoted_special);
    append(data + at, stop - at);
    src_.advance(stop - at);
    if (stop == src_.end()) return CsvState::quoted;
    src_.advance(1);
    if (data[stop] == '"') return CsvState::quote_in_quoted;
    src_.count_line();  // an LF inside quotes: data, and a new physical line
    append(data + stop, 1);
    return CsvState::quoted;
}

CsvState CsvParser::after_quote_in_quoted() {
    const char c = src_.data()[src_.pos()];
    if (c != '"' && c != ',' && c != '\n' && c != '\r') {
        set_fault(CsvFault::text_after_quote);  // kept, and read on as unquoted
        return CsvState::unquoted;
    }
    src_.advance(1);
    switch (c) {
        case '"':
            append(&c, 1);
            return CsvState::quoted;  // a doubled quote
        case ',':
            next_cell();
            return CsvState::field_start;
        case '\n':
            src_.count_line();
            return CsvState::ended_lf;
        default:
            return CsvState::cr_pending;
    }
}

CsvState CsvParser::after_cr() {
    if (src_.data()[src_.pos()] == '\n') {
        src_.advance(1);
        src_.count_line();
        return CsvState::ended_crlf;
    }
    set_fault(CsvFault::stray_cr);  // a CR not part of CRLF: kept as data
    append("\r", 1);
    return CsvState::unquoted;
}

void CsvParser::next_cell() {
    close_cell();
    open_cell();
}

bool CsvParser::refill() {
    flush_raw();
    mark_ = 0;
    return src_.refill();
}

void CsvParser::flush_raw() {
    const std::size_t n = src_.pos() - mark_;
    const std::size_t room = max_record_bytes - std::min(raw_->size(), max_record_bytes);
    if (n > room) {
        set_fault(CsvFault::oversize);
        oversize_ = true;
    }
    raw_->append(src_.data() + mark_, std::min(n, room));
    mark_ = src_.pos();
}

void CsvParser::open_cell() {
    if (row_->fields >= cell_limit_ || oversize_) {
        cell_ = nullptr;
        return;
    }
    if (row_->fields == row_->cells.size()) row_->cells.emplace_back();
    cell_ = &row_->cells[row_->fields];
    cell_->clear();
    row_->stored = row_->fields + 1;
}

void CsvParser::append(const char* p, std::size_t n) {
    if (cell_ == nullptr || n == 0) return;
    if (n > max_record_bytes - cell_bytes_) {
        set_fault(CsvFault::oversize);
        oversize_ = true;
        cell_ = nullptr;
        return;
    }
    cell_->append(p, n);
    cell_bytes_ += n;
}

void CsvParser::set_fault(CsvFault f) noexcept {
    if (f <= row_->fault) return;
    row_->fault = f;
    row_->fault_field = row_->fields;
}

}  // namespace tfadesk::ingest::detail
