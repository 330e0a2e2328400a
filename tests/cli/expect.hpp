// Assertions the process-level suites share (process.hpp itself asserts nothing).
#pragma once

#include <doctest/doctest.h>

#include "process.hpp"

namespace clitest {

// An error (not a refusal), as SPEC §4 has it: the exit code, nothing on stdout, and one line
// on stderr starting "tfadesk: error: ".
inline void expect_error(const Result& r, int code) {
    INFO("expected exit ", code, "\n", r.describe());
    CHECK(r.code == code);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("tfadesk: error: ", 0) == 0);
    CHECK(r.err_lines().size() == 1);
}

// The head line `verify` prints last ("head SEQ:HASH"); verify must pass.
inline std::string verified_head(const std::string& db) {
    const Result r = tfadesk(db, {"verify"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    const auto lines = r.out_lines();
    REQUIRE_FALSE(lines.empty());
    return lines.back();
}

}  // namespace clitest
