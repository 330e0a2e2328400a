// An output file written beside its target and renamed into place when complete (SPEC §4).
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace tfadesk::cli {

class OutputFile {
public:
    // Refuses (Error(invalid_input)) a target that is a protected path, not a regular file, or a
    // symbolic link, before anything is written.
    OutputFile(std::string target, const std::vector<std::string>& protected_paths);
    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    std::ostream& stream() { return out_; }
    void commit();

private:
    std::string target_, tmp_;
    std::ofstream out_;
    bool done_ = false;
};

}  // namespace tfadesk::cli
