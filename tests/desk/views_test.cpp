// desk::ticket_view_text writes the API's page of tickets without the DOM: it must give exactly
// the bytes nlohmann's dump of ticket_view gives (the reference) for every shape of ticket.
#include "tfadesk/desk/views.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tfadesk/engine/machine.hpp"

using namespace tfadesk;

namespace {

std::string reference(const engine::Ticket& t, std::int64_t sla_ms = engine::kDefaultSlaMs) {
    return desk::ticket_view(t, sla_ms).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
}

engine::Ticket plain() {
    engine::Ticket t;
    t.fields.ref = "HD-1";
    t.fields.phone = "+4915112345678";
    t.fields.client_id = "C-1";
    t.fields.requester_email = "a@example.com";
    t.fields.submitted_at = "2026-11-20T09:15:00Z";
    t.state = "received";
    t.version = 1;
    t.updated_at = "2026-11-20T09:15:00.000Z";
    t.active_at = t.updated_at;
    return t;
}

}  // namespace

TEST_CASE("ticket_view_text: a plain ticket, checked by hand") {
    CHECK(desk::ticket_view_text(plain()) ==
          R"({"assignee":null,"checks":{},"client_id":"C-1","due_at":null,)"
          R"("next_events":["triage","update","cancel","claim","release"],)"
          R"("phone":"+4915112345678",)"
          R"("portfolio_access":"unknown","reason":"other","ref":"HD-1",)"
          R"("requester_email":"a@example.com","requester_role":"unknown","state":"received",)"
          R"("submitted_at":"2026-11-20T09:15:00Z","updated_at":"2026-11-20T09:15:00.000Z",)"
          R"("version":1,"waiting_for":"triage"})");
}

TEST_CASE("ticket_view_text: the same bytes as the DOM for every state and shape") {
    for (const auto& [state, terminal] : engine::Machine::states()) {
        auto t = plain();
        t.state = state;
        t.version = 7;
        CAPTURE(state);
        CHECK(desk::ticket_view_text(t) == reference(t));
        // Every optional member, escapes, UTF-8 and checks.
        t.fields.waba_id = "123456";
        t.fields.portfolio_id = "998877";
        t.fields.note = "line one\nline \"two\"\t\\ \x01 \x7f — Grüße 日本";
        t.fields.reason = "lost_device";
        t.fields.requester_role = rules::Role::portfolio_admin;
        t.fields.portfolio_access = rules::Access::yes;
        t.assignee = "bob";
        t.checks = {{"number_ownership", "carol"}, {"client_of_record", "dan\u00e9"}};
        t.active_at = "2026-11-20T09:15:00.000Z";
        CHECK(desk::ticket_view_text(t) == reference(t));
        CHECK(desk::ticket_view_text(t, 3600000) == reference(t, 3600000));
    }
    auto unknown = plain();
    unknown.state = "no_such_state";  // a tampered row: no events, as the DOM says
    CHECK(desk::ticket_view_text(unknown) == reference(unknown));
}

TEST_CASE("ticket_view_text: invalid UTF-8 in a row is replaced, as dump(replace) does") {
    auto t = plain();
    t.fields.client_id = std::string("C-\xff\xfe");
    t.checks = {{"lost_access", std::string("x\xc3")}};
    const auto text = desk::ticket_view_text(t);
    CHECK(text == reference(t));
    CHECK(text.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD
    CHECK(nlohmann::json::parse(text).is_object());
}
