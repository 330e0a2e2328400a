// serve_seed_account DB NAME ROLES BY: adds an account through the desk's accounts API (the same
// call `tfadesk agent add` makes) and prints its token. The serve tests set up their desks with
// it; the first account of a desk must hold admin, and every later one is added by an admin
// authenticated by its token ($TFADESK_TOKEN, SPEC §12).
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/storage/open.hpp"

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: serve_seed_account DB NAME ROLES BY\n";
        return 2;
    }
    spdlog::set_level(spdlog::level::off);  // stdout carries the token alone
    try {
        auto store =
            tfadesk::storage::open_store(argv[1], tfadesk::engine::Store::Mode::read_write);
        const char* token = std::getenv("TFADESK_TOKEN");
        const tfadesk::desk::Actor by{argv[4],
                                      token ? tfadesk::desk::token_id(token) : std::string()};
        const auto issued =
            tfadesk::desk::add_account(*store, argv[2], tfadesk::desk::parse_roles(argv[3]), by);
        std::cout << issued.token << "\n";
        return 0;
    } catch (const tfadesk::engine::Error& e) {
        std::cerr << "serve_seed_account: " << e.what() << "\n";
        return e.exit_code();
    }
}
