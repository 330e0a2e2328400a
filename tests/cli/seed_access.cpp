// cli_seed_access DB AT ACCOUNT ROUTE CLIENT COUNT [REF...]: appends one access record (SPEC §12)
// through the store, as the server's writer does, so the `access-log` tests read records the store
// itself wrote. Prints nothing; exit 0, or the error's exit code.
#include <iostream>
#include <string>
#include <vector>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/storage/open.hpp"

int main(int argc, char** argv) {
    if (argc < 7) {
        std::cerr << "usage: cli_seed_access DB AT ACCOUNT ROUTE CLIENT COUNT [REF...]\n";
        return 2;
    }
    try {
        tfadesk::engine::AccessRecord r;
        r.at = argv[2];
        r.account = argv[3];
        r.route = argv[4];
        r.client = argv[5];
        r.ref_count = std::stoll(argv[6]);
        r.refs.assign(argv + 7, argv + argc);
        auto store =
            tfadesk::storage::open_store(argv[1], tfadesk::engine::Store::Mode::read_write);
        store->append_access({r});
        return 0;
    } catch (const tfadesk::engine::Error& e) {
        std::cerr << "cli_seed_access: " << e.what() << "\n";
        return e.exit_code();
    }
}
