// A buffered byte reader over an std::istream that counts physical lines, shared by the CSV
// and JSON Lines readers. One large read() per buffer-full keeps the per-byte cost to plain
// array access (no virtual call or locale work per character).
//
// Invariants: the buffer never grows past its initial capacity (memory stays flat however
// long the input); lines() is the number of LF bytes consumed so far, so CRLF counts once.
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace tfadesk::ingest::detail {

// Upper bound on one record's bytes kept in memory (raw text, and again its cell values).
inline constexpr std::size_t max_record_bytes = std::size_t{16} * 1024 * 1024;

class ByteSource {
public:
    // Throws FileError(0, ...) when `in` is already failed.
    explicit ByteSource(std::istream& in, std::size_t capacity = std::size_t{256} * 1024);

    const char* data() const noexcept { return buf_.data(); }
    std::size_t pos() const noexcept { return pos_; }
    std::size_t end() const noexcept { return end_; }
    void advance(std::size_t n) noexcept { pos_ += n; }
    void count_line() noexcept { ++lines_; }

    // Precondition pos() == end(). Replaces the buffer's content with the next chunk of input;
    // false at the end of input. Throws FileError(0, ...) on a read error.
    bool refill();
    // Makes at least n unread bytes available (moving the unread tail to the front, so any
    // offset into the buffer taken before is void); false when the input ends first.
    bool ensure(std::size_t n);

    // Skips a UTF-8 BOM if the unread input starts with one.
    void skip_bom();
    // Consumes blank lines (empty, or a lone CR before LF or before the end of input). Returns
    // false when the input ends; else pos() is at the first byte of a non-blank line.
    bool skip_blank_lines();
    // Reads one physical line into `line` without its LF, and without a CR just before that LF
    // or before the end of input. Keeps at most `max_bytes` bytes of it, setting `truncated`
    // when more were dropped (the line is still consumed whole). False at the end of input.
    bool read_line(std::string& line, std::size_t max_bytes, bool& truncated);

    // LF bytes consumed so far.
    std::size_t lines() const noexcept { return lines_; }
    // Physical lines consumed so far: lines(), plus the last line when the input is exhausted
    // and does not end with LF.
    std::size_t lines_read() const noexcept {
        return lines_ + (open_tail_ && pos_ == end_ ? 1 : 0);
    }

private:
    // Reads into buf_[end_, capacity); returns the number of bytes read (0 at the end).
    std::size_t read_more();

    std::istream& in_;
    std::vector<char> buf_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    std::size_t lines_ = 0;
    bool eof_ = false;
    bool any_input_ = false;
    char last_byte_ = '\n';  // the last byte read from the stream so far
    bool open_tail_ = false;
};

}  // namespace tfadesk::ingest::detail
