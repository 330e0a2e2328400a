#include "tfadesk/desk/seal.hpp"

#include "tfadesk/engine/error.hpp"

namespace tfadesk::desk {

void seal_with_key(engine::Store&, const std::string& key_path) {
    throw engine::Error(engine::ErrorKind::invalid_input, "--key " + key_path + ": seals are not built yet");
}

}  // namespace tfadesk::desk
