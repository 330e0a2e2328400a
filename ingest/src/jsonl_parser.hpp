// Turning one JSON Lines line into a Record's fields: a SAX pass (no DOM is built) that
// accepts exactly one flat object whose values are strings, integers or null.
//
// Invariants: never throws on content; reports at most one error per line, the syntax error
// first when the line is not valid JSON. Nested values are a type error of their key, not
// looked into.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/ingest/records.hpp"

namespace tfadesk::ingest::detail {

class JsonlParser {
public:
    explicit JsonlParser(const std::vector<std::string>& known) : known_(known) {}

    // Fills out.fields and out.error from `line` (out.raw and out.line are left alone).
    // Returns the first key not in `known` when the line is a valid object holding one: the
    // caller fails the whole file then. Otherwise nothing.
    std::optional<std::string> parse(std::string_view line, Record& out);

private:
    const std::vector<std::string>& known_;
    std::vector<char> seen_;  // per known key: already met in this line
};

}  // namespace tfadesk::ingest::detail
