// The fuzz corpus as a regression test: every file under fuzz/corpus/<target>/ (including the
// minimal inputs of bugs found, in regressions/) goes through the same body the libFuzzer
// target runs (fuzz/targets.cpp). A body throws only on something the code under test must
// not do: an undocumented exception, or a broken property (PropertyViolation). Built with the
// project's compiler, so it runs in CI without clang; with TFADESK_SANITIZE it also catches
// what ASan/UBSan would.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "targets.hpp"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus_files(const std::string& target) {
    const fs::path dir = fs::path(TFADESK_FUZZ_CORPUS_DIR) / target;
    std::vector<fs::path> files;
    if (!fs::is_directory(dir)) return files;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void replay(const std::string& target, void (*body)(const std::uint8_t*, std::size_t)) {
    const auto files = corpus_files(target);
    MESSAGE(target << ": " << files.size() << " corpus files");
    REQUIRE_FALSE(files.empty());
    for (const auto& file : files) {
        const std::string name = fs::relative(file, TFADESK_FUZZ_CORPUS_DIR).string();
        CAPTURE(name);
        const std::string bytes = read_bytes(file);
        CHECK_NOTHROW(body(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    }
}

}  // namespace

TEST_CASE("import corpus: RecordReader and validate_fields keep their contracts") {
    replay("import", &tfadesk::fuzz::import_one);
}

TEST_CASE("fields corpus: validate_fields and the single-field checks keep their contracts") {
    replay("fields", &tfadesk::fuzz::fields_one);
}

TEST_CASE("command corpus: command_from_entry and the machine keep their contracts") {
    replay("command", &tfadesk::fuzz::command_one);
}

TEST_CASE(
    "text corpus: the text rules, agent names, strict numbers and masks keep their contracts") {
    replay("text", &tfadesk::fuzz::text_one);
}
