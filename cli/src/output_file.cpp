#include "output_file.hpp"

#include <cstdio>

#include "tfadesk/engine/error.hpp"

namespace tfadesk::cli {

OutputFile::OutputFile(std::string target, const std::vector<std::string>&)
    : target_(std::move(target)), tmp_(target_ + ".partial") {
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) throw engine::Error(engine::ErrorKind::unexpected, "cannot write " + target_);
}

OutputFile::~OutputFile() {
    if (!done_) std::remove(tmp_.c_str());
}

void OutputFile::commit() {
    out_.close();
    if (!out_ || std::rename(tmp_.c_str(), target_.c_str()) != 0)
        throw engine::Error(engine::ErrorKind::unexpected, "cannot write " + target_);
    done_ = true;
}

}  // namespace tfadesk::cli
