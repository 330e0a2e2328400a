// Buffered input with line counting; see byte_source.hpp.
#include "byte_source.hpp"

#include <algorithm>
#include <cstring>
#include <ios>

#include "tfadesk/ingest/records.hpp"

namespace tfadesk::ingest::detail {

// ensure() needs room for a few bytes of look-ahead, whatever capacity is asked for.
ByteSource::ByteSource(std::istream& in, std::size_t capacity)
    : in_(in), buf_(std::max<std::size_t>(capacity, 8)) {
    if (!in_) throw FileError(0, "cannot read the input (the stream is not readable)");
}

std::size_t ByteSource::read_more() {
    if (eof_) return 0;
    const auto room = static_cast<std::streamsize>(buf_.size() - end_);
    std::streamsize got = 0;
    try {
        in_.read(buf_.data() + end_, room);
        got = in_.gcount();
    } catch (const std::ios_base::failure&) {
        got = in_.gcount();  // a stream set to throw on failbit throws at the end of input too
    }
    if (in_.bad()) throw FileError(0, "cannot read the input: read error");
    if (got <= 0) {
        eof_ = true;
        open_tail_ = any_input_ && last_byte_ != '\n';
        return 0;
    }
    end_ += static_cast<std::size_t>(got);
    any_input_ = true;
    last_byte_ = buf_[end_ - 1];
    return static_cast<std::size_t>(got);
}

bool ByteSource::refill() {
    pos_ = 0;
    end_ = 0;
    return read_more() > 0;
}

bool ByteSource::ensure(std::size_t n) {
    while (end_ - pos_ < n) {
        if (pos_ > 0) {
            std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
            end_ -= pos_;
            pos_ = 0;
        }
        if (read_more() == 0) return false;
    }
    return true;
}

void ByteSource::skip_bom() {
    ensure(3);
    if (end_ - pos_ >= 3 && std::memcmp(buf_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
}

bool ByteSource::skip_blank_lines() {
    for (;;) {
        if (!ensure(1)) return false;
        const char c = buf_[pos_];
        if (c == '\n') {
            ++pos_;
            ++lines_;
            continue;
        }
        if (c != '\r') return true;
        if (!ensure(2)) {  // a lone CR at the very end: a blank last line
            ++pos_;
            return false;
        }
        if (buf_[pos_ + 1] != '\n') return true;
        pos_ += 2;
        ++lines_;
    }
}

bool ByteSource::read_line(std::string& line, std::size_t max_bytes, bool& truncated) {
    line.clear();
    truncated = false;
    if (pos_ == end_ && !refill()) return false;
    for (;;) {
        const char* const start = buf_.data() + pos_;
        const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
        const std::size_t n = nl != nullptr ? static_cast<std::size_t>(nl - start) : end_ - pos_;
        const std::size_t keep =
            line.size() >= max_bytes ? 0 : std::min(n, max_bytes - line.size());
        line.append(start, keep);
        truncated = truncated || keep < n;
        pos_ += n;
        if (nl != nullptr) {
            ++pos_;
            ++lines_;
            break;
        }
        if (!refill()) break;
    }
    if (!truncated && !line.empty() && line.back() == '\r') line.pop_back();
    return true;
}

}  // namespace tfadesk::ingest::detail
