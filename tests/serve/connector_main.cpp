// serve_connector_test's main: SIGPIPE ignored (a refused body may close the connection while the
// client is still sending).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    return doctest::Context(argc, argv).run();
}
