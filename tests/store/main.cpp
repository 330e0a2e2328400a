// The store suite's entry point: `store_test --backend sqlite|postgres [doctest options]`.
// SQLite runs on temporary files. PostgreSQL runs on the server named by $TFADESK_TEST_PG (a
// libpq URI of a role that may create databases; scripts/pg-test-cluster starts a throwaway
// one), one fresh database per test case; without it, or when it cannot be reached, the run
// FAILS - a PostgreSQL suite that quietly skips would prove nothing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "backend.hpp"

namespace store_test {

namespace {
std::unique_ptr<Backend> the_backend;
}

Backend& backend() { return *the_backend; }

}  // namespace store_test

int main(int argc, char** argv) {
    std::vector<char*> rest;
    std::string which;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--backend") == 0 && i + 1 < argc)
            which = argv[++i];
        else
            rest.push_back(argv[i]);
    }
    try {
        if (which == "sqlite") {
            store_test::the_backend = std::make_unique<store_test::SqliteBackend>();
        } else if (which == "postgres") {
            const char* uri = std::getenv("TFADESK_TEST_PG");
            if (!uri || !*uri) {
                std::cerr
                    << "store_test: TFADESK_TEST_PG is not set; run the PostgreSQL suite through "
                       "scripts/test or scripts/pg-test-cluster (it starts a throwaway server)\n";
                return 1;
            }
            store_test::the_backend = std::make_unique<store_test::PgBackend>(uri);
        } else {
            std::cerr << "usage: store_test --backend sqlite|postgres [doctest options]\n";
            return 2;
        }
    } catch (const std::exception& e) {
        std::cerr << "store_test: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "store_test: backend " << which << "\n";
    spdlog::set_level(spdlog::level::warn);  // the desk layer's info lines are not test output
    doctest::Context context(static_cast<int>(rest.size()), rest.data());
    const int rc = context.run();
    store_test::the_backend.reset();
    return rc;
}
