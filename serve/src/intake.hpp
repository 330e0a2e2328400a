// POST /intake/SOURCE (SPEC §17): a helpdesk's webhook, checked and applied as the connector's
// account; and GET /api/v1/outbox (operator): the outbox's pending deliveries and dead letters.
#pragma once

#include <httplib.h>

#include "api.hpp"
#include "connectors.hpp"

namespace tfadesk::serve {

// Installs the intake route for `connectors` (an unknown SOURCE is 404) and the outbox listing.
// `connectors` must outlive the server.
void install_intake(httplib::Server& svr, Api& api, const Connectors& connectors);

// Checks, when the server starts, that every connector's account may act (desk::connector_actor):
// Error(invalid_input) naming the file, the source and `account` otherwise.
void check_connector_accounts(engine::Store& store, const Connectors& connectors,
                              const std::string& file);

}  // namespace tfadesk::serve
