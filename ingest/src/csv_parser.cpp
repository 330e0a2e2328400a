// RFC 4180 state machine; see csv_parser.hpp.
#include "csv_parser.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace tfadesk::ingest::detail {
namespace {

enum class State { field_start, unquoted, quoted, quote_in_quoted, cr_pending };

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
    State st = State::field_start;
    for (;;) {
        if (src_.pos() == src_.end() && !refill()) {
            if (st == State::quoted) set_fault(CsvFault::unterminated);
            return st == State::cr_pending ? 1 : 0;
        }
        const char* const data = src_.data();
        const std::size_t at = src_.pos();
        switch (st) {
            case State::field_start:
                if (data[at] == '"') {
                    src_.advance(1);
                    st = State::quoted;
                } else {
                    st = State::unquoted;
                }
                break;
            case State::unquoted: {
                const std::size_t stop = run_end(data, at, src_.end(), unquoted_special);
                append(data + at, stop - at);
                src_.advance(stop - at);
                if (stop == src_.end()) break;
                src_.advance(1);
                switch (data[stop]) {
                    case ',':
                        close_cell();
                        open_cell();
                        st = State::field_start;
                        break;
                    case '\n': src_.count_line(); return 1;
                    case '\r': st = State::cr_pending; break;
                    default:  // a quote inside an unquoted field: kept as data
                        set_fault(CsvFault::stray_quote);
                        append(data + stop, 1);
                        break;
                }
                break;
            }
            case State::quoted: {
                const std::size_t stop = run_end(data, at, src_.end(), quoted_special);
                append(data + at, stop - at);
                src_.advance(stop - at);
                if (stop == src_.end()) break;
                src_.advance(1);
                if (data[stop] == '"') {
                    st = State::quote_in_quoted;
                } else {
                    src_.count_line();
                    append(data + stop, 1);
                }
                break;
            }
            case State::quote_in_quoted:
                switch (data[at]) {
                    case '"':
                        src_.advance(1);
                        append(data + at, 1);
                        st = State::quoted;
                        break;
                    case ',':
                        src_.advance(1);
                        close_cell();
                        open_cell();
                        st = State::field_start;
                        break;
                    case '\n':
                        src_.advance(1);
                        src_.count_line();
                        return 1;
                    case '\r':
                        src_.advance(1);
                        st = State::cr_pending;
                        break;
                    default:  // text after the closing quote: kept, read as unquoted
                        set_fault(CsvFault::text_after_quote);
                        st = State::unquoted;
                        break;
                }
                break;
            case State::cr_pending:
                if (data[at] == '\n') {
                    src_.advance(1);
                    src_.count_line();
                    return 2;
                }
                set_fault(CsvFault::stray_cr);  // a CR not part of CRLF: kept as data
                append("\r", 1);
                st = State::unquoted;
                break;
        }
    }
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
