// The built-in English replies, written from the provider's policy page (seeds/2fa-policy.md):
// the self-service steps are the page's own words, the refusals cite its rules. What each state
// must say is SPEC §11's table; docs/replies.md shows the same texts for desks that translate.
//
// Invariant: no text here uses a placeholder that its place forbids (Templates::load checks the
// built-in texts exactly as it checks a desk's files), and none names the requester's email.
#include "reply_texts.hpp"

namespace tfadesk::desk::texts {
namespace {

constexpr const char* kSignOff = "\n\nKind regards,\nYour support team";

TemplateText state_text(std::string subject, std::string body) {
    return TemplateText{std::move(subject), std::move(body) + kSignOff, "built-in"};
}

TemplateText snippet(std::string text) { return TemplateText{"", std::move(text), "built-in"}; }

std::map<std::string, TemplateText, std::less<>> make() {
    std::map<std::string, TemplateText, std::less<>> m;

    // ---- received, awaiting_requester: ask what is still unknown (R1, R2) ----
    m["received"] = state_text(
        "[{ref}] Your request to turn off two-step verification: a few questions",
        "Hello,\n\n"
        "Thank you for your request {ref} (received {submitted_at}) to turn off two-step "
        "verification (2FA) for the WhatsApp Business phone number {phone_masked}.\n\n"
        "Only our client, or an administrator of the client's Meta business portfolio, can have "
        "two-step verification turned off. Before we can go on, please answer the following:\n\n"
        "{questions}\n\n"
        "Just reply to this message, keeping the reference {ref} in the subject.");
    m["awaiting_requester"] = state_text(
        "[{ref}] We are still waiting for your answer",
        "Hello,\n\n"
        "We cannot go on with your request {ref} to turn off two-step verification (2FA) for the "
        "WhatsApp Business phone number {phone_masked} until you answer the following:\n\n"
        "{questions}\n\n"
        "Just reply to this message, keeping the reference {ref} in the subject. If we do not "
        "hear from you, we will close the request.");
    m["question.role"] = snippet(
        "Are you our client for this number, or an administrator of the client's Meta business "
        "portfolio? If you are a partner acting for the client, please say so: in that case the "
        "client must contact us directly.");
    m["question.access"] = snippet(
        "Do you still have access to the Meta business portfolio that the number belongs to, that "
        "is, can you still sign in to Meta Business Manager and open WhatsApp Manager?");
    m["questions.none"] = snippet(
        "Nothing more for now: we have the answers we need and will write to you again shortly.");

    // ---- self_service_advised: the steps of R2, as the policy page gives them ----
    m["self_service_advised"] = state_text(
        "[{ref}] How to turn off two-step verification yourself",
        "Hello,\n\n"
        "Thank you for your request {ref}. As you still have access to your Meta business "
        "portfolio, you can turn off two-step verification (2FA) for the number {phone_masked} "
        "yourself. Two-step verification is managed directly through Meta Business Manager > "
        "WhatsApp Manager, within the phone number settings; it cannot be changed through our "
        "APIs.\n\n"
        "In short: Meta Business Manager > WhatsApp Manager > Phone Numbers > Settings > "
        "Two-Step Verification > Turn off two-step verification\n\n"
        "Step by step:\n\n"
        "1. Go to Meta Business Manager > WhatsApp Manager > Phone Numbers > Settings.\n"
        "2. Select Two-Step Verification from the navigation panel, then click the Turn off "
        "two-step verification button.\n"
        "3. An email with a link will be sent to the email address associated with the business "
        "portfolio.\n"
        "4. Click the link to disable two-step verification.\n\n"
        "Only our client or an administrator of the Meta business portfolio can do this. Our "
        "support team turns off two-step verification on someone's behalf only when they own the "
        "number and have lost access to the Meta business portfolio; as you still have access, "
        "we have closed this request.");

    // ---- partner_rejected: R3, and nothing about the client's account ----
    m["partner_rejected"] = state_text(
        "[{ref}] We cannot act on this request",
        "Hello,\n\n"
        "We have received the request {ref} to turn off two-step verification (2FA) for a "
        "WhatsApp Business phone number, and we cannot act on it.\n\n"
        "For security reasons, two-step verification can be turned off only at the request of "
        "our client or of an administrator of the client's Meta business portfolio. We cannot "
        "turn it off at the request of anyone else, and this includes a partner acting for the "
        "client. For the same reason we cannot share any information about the account or the "
        "phone number.\n\n"
        "If the client wants two-step verification turned off, the client should contact our "
        "support team directly.\n\n"
        "This request is now closed.");

    // ---- identity_check: the proof still needed for each check not yet passed (R5) ----
    m["identity_check"] = state_text(
        "[{ref}] Confirming your identity: what we still need",
        "Hello,\n\n"
        "As you have lost access to your Meta business portfolio, our support team can turn off "
        "two-step verification (2FA) for the number {phone_masked} on your behalf. First we must "
        "be sure that the request comes from the number's owner. We still need:\n\n"
        "{missing_checks}\n\n"
        "Please reply to this message with what is listed above, keeping the reference {ref} in "
        "the subject. A second member of our team reviews every request before anything is "
        "changed.");
    m["proof.client_of_record"] = snippet(
        "Proof that you are our client for this number: reply from the email address registered "
        "on the client account {client_id}, or send a copy of a recent invoice we issued to that "
        "account.");
    m["proof.number_ownership"] = snippet(
        "Proof that you own the number {phone_masked}: a recent bill or contract from your "
        "telephone carrier that shows the number in your company's name. You may black out "
        "everything except the number, the company name and the date.");
    m["proof.lost_access"] = snippet(
        "Proof that you have lost access to the Meta business portfolio: tell us how access was "
        "lost (for example, the only administrator has left the company), and send a screenshot "
        "of what Meta Business Manager shows when you try to open the portfolio.");
    m["proofs.none"] = snippet(
        "Nothing more: every check has passed. A second member of our team will now review the "
        "request.");

    // ---- identity_rejected: the refusal, with the failed check (R5) ----
    m["identity_rejected"] = state_text(
        "[{ref}] We could not confirm your identity",
        "Hello,\n\n"
        "We could not confirm your identity for the request {ref}, so we will not turn off "
        "two-step verification (2FA) for the number {phone_masked}, and the request is closed.\n\n"
        "The check that did not pass: {failed_check}.\n\n"
        "While two-step verification is on, nobody can register the number on WhatsApp without "
        "its six-digit PIN. This is why we turn it off on someone's behalf only when we are sure "
        "that the request comes from the number's owner.\n\n"
        "If you believe this is a mistake, you can send us a new request with the proof for this "
        "check.");
    m["check.client_of_record"] =
        snippet("client of record (that you are our client for this number)");
    m["check.number_ownership"] = snippet("number ownership (that you own the phone number)");
    m["check.lost_access"] =
        snippet("lost access (that you have lost access to the Meta business portfolio)");
    m["check.unknown"] = snippet("one of our identity checks");

    // ---- approved, disable_submitted: being carried out (R4: an agent does it, not the API) ----
    m["approved"] = state_text(
        "[{ref}] Your request is being carried out",
        "Hello,\n\n"
        "Your identity has been confirmed, and your request {ref} to turn off two-step "
        "verification (2FA) for the number {phone_masked} has been approved. It is now being "
        "carried out; we will write to you again as soon as two-step verification is off.\n\n"
        "You do not need to do anything in the meantime.");
    m["disable_submitted"] = state_text(
        "[{ref}] Your request is being carried out",
        "Hello,\n\n"
        "We have asked for two-step verification (2FA) to be turned off for the number "
        "{phone_masked} (request {ref}). This is being carried out now; we will write to you "
        "again as soon as it is confirmed.\n\n"
        "You do not need to do anything in the meantime.");

    // ---- completed ----
    m["completed"] = state_text(
        "[{ref}] Two-step verification is now off",
        "Hello,\n\n"
        "Two-step verification (2FA) is now turned off for the number {phone_masked} (request "
        "{ref}).\n\n"
        "You can now migrate the number to another WhatsApp Business Account or Meta business "
        "portfolio: registering it no longer asks for the six-digit PIN.\n\n"
        "Once the number has been migrated, you can turn two-step verification on again and set "
        "a new six-digit PIN in Meta Business Manager > WhatsApp Manager > Phone Numbers > "
        "Settings > Two-Step Verification. We recommend it: the PIN protects the number.");

    // ---- cancelled, expired: closed, and how to ask again ----
    constexpr const char* kAskAgain =
        "If you still need two-step verification turned off, please send us a new request: "
        "tell us the phone number, whether you are our client or an administrator of the "
        "client's Meta business portfolio, and whether you still have access to the portfolio. "
        "If you do, you can also turn it off yourself in Meta Business Manager > WhatsApp "
        "Manager > Phone Numbers > Settings > Two-Step Verification.";
    m["cancelled"] = state_text(
        "[{ref}] Your request has been closed",
        std::string("Hello,\n\n"
                    "Your request {ref} to turn off two-step verification (2FA) for the number "
                    "{phone_masked} has been withdrawn and is now closed.\n\n") +
            kAskAgain);
    m["expired"] = state_text(
        "[{ref}] Your request has been closed",
        std::string("Hello,\n\n"
                    "We did not hear back from you about your request {ref} to turn off two-step "
                    "verification (2FA) for the number {phone_masked}, so we have closed it.\n\n") +
            kAskAgain);
    return m;
}

}  // namespace

const std::map<std::string, TemplateText, std::less<>>& builtin() {
    static const auto texts = make();
    return texts;
}

}  // namespace tfadesk::desk::texts
