// The RFC 4180 record splitter: one state machine over the ByteSource's buffer that yields the
// cells of one record at a time, together with the record's raw bytes.
//
// Invariants: a record ends at an LF, a CRLF, or a lone CR at the very end of the input, but
// only outside quotes; inside quotes every byte is data. It never throws on content: faults
// are recorded in CsvRow and parsing goes on to the end of the record. Cells and raw text are
// each capped at max_record_bytes; bytes past the cap are consumed but not kept.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "byte_source.hpp"

namespace tfadesk::ingest::detail {

// What is wrong with a record's structure, in increasing order of importance: a more important
// fault found later in the record replaces a lesser one.
enum class CsvFault { none, stray_cr, stray_quote, text_after_quote, unterminated, oversize };

struct CsvRow {
    std::size_t line = 0;            // physical line where the record starts
    std::vector<std::string> cells;  // cells[0, stored) hold the first fields; capacity reused
    std::size_t stored = 0;          // min(fields, cell_limit)
    std::size_t fields = 0;          // fields in the record, kept or not
    CsvFault fault = CsvFault::none;
    std::size_t fault_field = 0;  // 0-based field the fault was found in
};

// Where the state machine stands: inside which kind of field, or how the record ended.
enum class CsvState {
    field_start,
    unquoted,
    quoted,
    quote_in_quoted,  // just read a quote inside a quoted field: its end, or half of ""
    cr_pending,       // just read a CR outside quotes: CRLF, or a stray CR
    ended_lf,
    ended_crlf
};

class CsvParser {
public:
    explicit CsvParser(ByteSource& src) : src_(src) {}

    // Reads the next record into `row` and its bytes (without the final terminator) into
    // `raw`, keeping the values of the first `cell_limit` fields only. Blank lines before it
    // are skipped. Returns false at the end of input.
    bool read(CsvRow& row, std::string& raw, std::size_t cell_limit);

private:
    // Runs the state machine to the end of the record; returns the length of the terminator
    // consumed (2 for CRLF, 1 for LF or a final lone CR, 0 for the end of input).
    std::size_t scan();
    // One step each, with at least one unread byte available: consume what belongs to this
    // state and return the next one (a state that consumes nothing hands over to one that does).
    CsvState at_field_start();
    CsvState in_unquoted();
    CsvState in_quoted();
    CsvState after_quote_in_quoted();
    CsvState after_cr();
    void next_cell();
    bool refill();
    void flush_raw();
    void open_cell();
    void close_cell() noexcept { ++row_->fields; }
    void append(const char* p, std::size_t n);
    void set_fault(CsvFault f) noexcept;

    ByteSource& src_;
    CsvRow* row_ = nullptr;
    std::string* raw_ = nullptr;
    std::string* cell_ = nullptr;  // where the current field's bytes go; null: not kept
    std::size_t cell_limit_ = 0;
    std::size_t cell_bytes_ = 0;  // bytes kept in cells for this record
    std::size_t mark_ = 0;        // buffer offset of the first byte not yet copied to raw
    bool oversize_ = false;
};

}  // namespace tfadesk::ingest::detail
