// libFuzzer entry point: the text rules (is_blank, check_text, escape_control, canonical_agent,
// parse_count, parse_expect_head, mask_pii) on fuzzed bytes.
// The body is tfadesk::fuzz::text_one in targets.hpp (shared with tests/fuzz_corpus). Build and
// run with fuzz/run.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        tfadesk::fuzz::text_one(data, size);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "text_fuzz: unexpected exception: %s\n", e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "text_fuzz: unexpected non-standard exception\n");
        std::abort();
    }
    return 0;
}
