// One ticket (SPEC §15, agents and approvers): its fields, related tickets (R9), what it waits
// for, only the `allowed` events as actions in words (closing ones confirmed), refusals with
// their rule, the history in sentences, the reply to send (§11) in the language chosen, and its
// path on the diagram. A live re-read (the §14 stream) keeps a form being filled in.
import { $, api, clear, copyText, el, eventWords, FIELD_ORDER, FIELD_WORDS, hasRole, linkClick, RULE_WORDS, state,
  stateWords, timeLeft, when } from "/core.js";
import { hasPasskey, signDecision } from "/passkeys.js";
import { loadQueue, markCurrent } from "/queue.js";

// What each event asks for (SPEC §3): the rest take an optional note.
const NEEDS = {
  "check-passed": { check: true },
  "check-failed": { check: true, note: "required" },
  "submit-disable": { reference: true },
  "disable-failed": { note: "required" },
  "cancel": { note: "required" },
  "update": { update: true },
};
const CHECKS = ["client_of_record", "number_ownership", "lost_access"];
// The decisions a person signs (SPEC §13); the page signs them with a passkey when the account has one.
const DECISIONS = new Set(["check-passed", "check-failed", "approve", "submit-disable", "confirm-disabled"]);
// Events that close the ticket for good: the page asks before sending them.
const CLOSING = {
  "cancel": "The ticket will be cancelled and accept no further event.",
  "disable-failed": "The ticket will be closed as failed and accept no further event.",
  "confirm-disabled": "The ticket will be completed: 2FA is recorded as disabled, and the ticket accepts no further event.",
  "check-failed": "The request will be rejected for a failed identity check, for good.",
  "partner-detected": "The request will be rejected as a partner's, for good.",
};

// ---- messages ---------------------------------------------------------------------------
// kind: true or "ok" (done), "info" (nothing happened), else a problem.
export function showMessage(text, ok) {
  const m = $("message");
  clear(m);
  m.classList.toggle("ok", ok === true || ok === "ok");
  m.classList.toggle("info", ok === "info");
  if (text) m.append(text);
}

export function showError(res, what) {
  const e = res.data && typeof res.data === "object" ? res.data : { error: String(res.data || "HTTP " + res.status) };
  const m = $("message");
  clear(m);
  m.classList.remove("ok", "info");
  if (e.code === "refused") {
    const words = RULE_WORDS[e.rule];
    m.append("Refused by ", el("span", { class: "rule" }, e.rule || "the workflow"),
      words ? " (" + words + ")" : "", e.state ? " in state " + stateWords(e.state) : "", ": " + e.error);
  } else if (e.code === "stale") {
    m.append("The ticket changed since you read it, so nothing was applied; it is shown again as it is now. ", e.error);
  } else {
    m.append((what ? what + ": " : "") + e.error + (e.code ? " [" + e.code + "]" : ""));
  }
}

// ---- one ticket -------------------------------------------------------------------------
// Opens (or, live, re-reads) a ticket. `keep`: an event form being filled in stays as it is.
export async function openTicket(ref, keepMessage, focus, keep) {
  const gen = state.gen;
  const res = await api("GET", "/api/v1/tickets/" + encodeURIComponent(ref));
  if (gen !== state.gen || !state.me) return;
  if (res.status !== 200) {
    $("ticket-panel").hidden = false;
    $("ticket-ref").textContent = ref;
    return showError(res, "Ticket " + ref);
  }
  const same = state.ticket && state.ticket.ref === ref;
  state.ticket = res.data;
  state.etag = res.etag;
  if (!keepMessage) showMessage("");
  if (!same) $("live-status").textContent = "";
  renderTicket(keep && same);
  $("ticket-panel").hidden = false;
  document.title = "tfadesk — " + ref;
  markCurrent(ref);
  if (focus) $("ticket-h").focus();
  await Promise.all([loadHistory(ref), loadReply(ref), loadDiagram(ref)]);
}

function renderTicket(keepForm) {
  const t = state.ticket;
  const allowed = Array.isArray(t.allowed) ? t.allowed : [];
  $("ticket-ref").textContent = t.ref;
  $("ticket-state").textContent = t.state;
  $("ticket-state-words").textContent = stateWords(t.state);
  $("ticket-version").textContent = t.version;
  $("ticket-waiting").textContent = t.waiting_for;
  $("ticket-assignee").textContent = t.assignee || "nobody";
  $("ticket-due").textContent = t.due_at ? "Expires under R7 at " + when(t.due_at) + " (" + timeLeft(t.due_at) + ")." : "";
  // Related tickets (R9): a partner's rejected request with the same phone or email.
  const rel = $("related");
  clear(rel);
  const related = Array.isArray(t.related) ? t.related : [];
  rel.hidden = !related.length;
  if (related.length) {
    rel.append(el("strong", {}, "Warning: related tickets (R9). "),
      "The same phone number or requester email appears on " + (t.related_total || related.length) + " other ticket(s); " +
      "a partner's rejected request must be named before approval: ");
    related.forEach((r, i) => {
      if (i) rel.append(", ");
      rel.append(el("a", { href: "/tickets/" + encodeURIComponent(r.ref), onclick: linkClick }, r.ref),
        " (" + stateWords(r.state) + (r.match ? ", same " + r.match : "") + ")");
    });
  }
  const dl = $("ticket-fields");
  clear(dl);
  for (const k of FIELD_ORDER) {
    if (t[k] === undefined || t[k] === null || t[k] === "") continue;
    const v = /_at$/.test(k) ? when(t[k]) : t[k];
    dl.append(el("dt", {}, FIELD_WORDS[k] || k), el("dd", {}, v));
  }
  const checks = $("ticket-checks");
  clear(checks);
  for (const c of CHECKS) {
    checks.append(el("li", {}, c + ": " + (t.checks && t.checks[c] ? "passed, recorded by " + t.checks[c] : "not yet")));
  }
  // Only what this reader may do now (the API's `allowed`), in words; claim and release beside the assignee.
  // Rebuilt only when they change, so a live re-read does not pull a button from under a click.
  const actionsKey = JSON.stringify([t.ref, allowed, t.assignee, t.next_events]);
  if (actionsKey !== state.actionsKey) {
    state.actionsKey = actionsKey;
    renderActions(t, allowed);
  }
  if (keepForm && state.event && !$("event-form").hidden) {
    if (!allowed.includes(state.event)) {
      $("event-form").hidden = true;
      showMessage("The ticket changed: “" + eventWords(state.event) + "” is no longer possible. What you typed was not sent.");
      state.event = null;
    } else {
      $("event-legend").textContent = eventWords(state.event) + " — " + t.ref;
    }
  } else {
    $("event-form").hidden = true;
    state.event = null;
  }
}

function renderActions(t, allowed) {
  const assign = $("assign-actions");
  clear(assign);
  if (allowed.includes("claim") && t.assignee !== state.me.name) {
    const takeOver = !!t.assignee;
    assign.append(el("button", { type: "button", class: "secondary small", dataset: { event: "claim" },
      onclick: () => takeOver ? chooseEvent("claim") : quickEvent("claim") },
      takeOver ? "Take over from " + t.assignee : "Claim"));
  }
  if (allowed.includes("release") && t.assignee) {
    assign.append(el("button", { type: "button", class: "secondary small", dataset: { event: "release" },
      onclick: () => quickEvent("release") }, "Release"));
  }
  const events = $("events");
  clear(events);
  for (const name of allowed) {
    if (name === "claim" || name === "release") continue;
    events.append(el("button", { type: "button", class: CLOSING[name] ? "secondary closing" : "secondary",
      dataset: { event: name }, onclick: () => chooseEvent(name) }, eventWords(name)));
  }
  if (!events.firstChild) {
    events.append(el("p", { class: "muted" }, (t.next_events || []).length
      ? "Nothing you may do on this ticket now." : "The ticket is closed: it accepts no event."));
  }
}

function chooseEvent(name) {
  const need = NEEDS[name] || {};
  const takeOver = name === "claim";
  state.event = name;
  $("event-legend").textContent = (takeOver ? "Take over from " + state.ticket.assignee : eventWords(name)) + " — " + state.ticket.ref;
  $("f-check").hidden = !need.check;
  for (const id of ["f-role", "f-access", "f-email"]) $(id).hidden = !need.update;
  $("f-reference").hidden = !need.reference;
  const noteRequired = need.note === "required" || takeOver;
  $("note-label").textContent = noteRequired ? "Note (required)" : "Note (optional)";
  $("note").required = noteRequired;
  $("reference").required = !!need.reference;
  for (const id of ["note", "reference", "requester-email"]) $(id).value = "";
  $("role").value = $("access").value = "";
  if (need.check) {
    const next = CHECKS.find((c) => !(state.ticket.checks && state.ticket.checks[c]));
    if (next) $("check").value = next;
  }
  $("event-submit").textContent = takeOver ? "Take over" : name === "cancel" ? "Cancel the ticket" : eventWords(name);
  $("event-submit").classList.toggle("danger", !!CLOSING[name]);
  $("event-form").hidden = false;
  (need.check ? $("check") : need.reference ? $("reference") : need.update ? $("role") : $("note")).focus();
}

// Asks before an event that closes the ticket for good; answers true to go on.
function confirmClosing(name) {
  const d = $("confirm-dialog");
  if (!CLOSING[name]) return Promise.resolve(true);
  $("confirm-h").textContent = eventWords(name) + " " + state.ticket.ref + "?";
  $("confirm-text").textContent = CLOSING[name] + " This cannot be undone.";
  $("confirm-yes").textContent = "Yes: " + eventWords(name).toLowerCase();
  return new Promise((resolve) => {
    d.returnValue = "";
    d.addEventListener("close", () => resolve(d.returnValue === "yes"), { once: true });
    d.showModal();
    $("confirm-no").focus();
  });
}

async function quickEvent(name) {
  await postEvent(name, { event: name });
}

async function applyEvent(ev) {
  ev.preventDefault();
  const name = state.event, need = NEEDS[name] || {};
  if (!name) return;
  const body = { event: name };
  if (need.check) body.check = $("check").value;
  if (need.reference) body.reference = $("reference").value;
  if (need.update) {
    if ($("role").value) body.role = $("role").value;
    if ($("access").value) body.access = $("access").value;
    if ($("requester-email").value) body.requester_email = $("requester-email").value;
  }
  if ($("note").value.trim()) body.note = $("note").value;
  if (!(await confirmClosing(name))) {
    showMessage("Nothing was sent: " + eventWords(name).toLowerCase() + " was not confirmed.", "info");
    $("event-submit").focus();
    return;
  }
  $("event-submit").disabled = true;
  try {
    await postEvent(name, body);
  } finally {
    $("event-submit").disabled = false;
  }
}

async function postEvent(name, body) {
  const t = state.ticket;
  const headers = state.etag ? { "If-Match": state.etag } : {};
  // A decision is signed with the account's passkey when it has one (SPEC §13).
  const signed = DECISIONS.has(name) && hasPasskey();
  let sent = body;
  if (signed) {
    const sig = await signDecision(t.ref, body, headers);
    if (sig.error) { showMessage(sig.error + " The " + name + " was not applied."); return; }
    if (sig.res) {
      showError(sig.res, eventWords(name));
      if (sig.res.data && sig.res.data.code === "stale") await openTicket(t.ref, true);
      return;
    }
    sent = Object.assign({}, body, { assertion: sig.assertion });
  }
  const res = await api("POST", "/api/v1/tickets/" + encodeURIComponent(t.ref) + "/events", sent, headers);
  if (res.status === 200) {
    showMessage(eventWords(name) + ": " + name + " recorded" + (signed ? ", signed with your passkey" : "") +
      ": the ticket is now " + stateWords(res.data.state) + " (" + res.data.state + ").", true);
    state.event = null;
    await Promise.all([openTicket(t.ref, true), loadQueue()]);
  } else {
    showError(res, eventWords(name));
    if (res.data && res.data.code === "stale") await openTicket(t.ref, true, false, true);
    else { $("event-form").hidden = true; state.event = null; }
  }
}

// ---- history as sentences -----------------------------------------------------------------
function sentence(e) {
  const d = e.details && typeof e.details === "object" ? e.details : {};
  const who = e.agent || "someone";
  switch (e.event) {
    case "open": case "create": case "submit": case "received": case "import": return who + " opened the ticket.";
    case "triage": return who + " triaged the ticket: " + stateWords(e.state) + ".";
    case "update": {
      const what = [];
      if (d.role) what.push("role " + d.role);
      if (d.access) what.push("portfolio access " + d.access);
      if (d.requester_email) what.push("email " + d.requester_email);
      return who + " updated the requester's answers" + (what.length ? " (" + what.join(", ") + ")" : "") + ".";
    }
    case "check-passed": return who + " recorded the check " + (d.check || "?") + " as passed.";
    case "check-failed": return who + " recorded the check " + (d.check || "?") + " as failed: the request is rejected.";
    case "partner-detected": return who + " found the requester to be a partner: the request is rejected.";
    case "approve": return who + " approved the disable" +
      (Array.isArray(d.ack_related) && d.ack_related.length ? ", naming the related tickets " + d.ack_related.join(", ") : "") + ".";
    case "submit-disable": return who + " submitted the disable in WhatsApp Manager" + (d.reference ? " (reference " + d.reference + ")" : "") + ".";
    case "confirm-disabled": return who + " confirmed that 2FA was disabled.";
    case "disable-failed": return who + " recorded that the disable failed.";
    case "cancel": return who + " cancelled the ticket.";
    case "expire": return who + " expired the ticket: no answer within the SLA.";
    case "claim": return d.takes_over ? who + " took the ticket over from " + d.takes_over + "." : who + " claimed the ticket.";
    case "release": return who + " released the ticket.";
    default: return who + " recorded " + e.event + " (" + stateWords(e.state) + ").";
  }
}

const SHOWN = new Set(["note", "signature", "check", "reference", "takes_over", "role", "access", "requester_email", "ack_related", "by_token"]);

function historyRow(e) {
  const d = e.details && typeof e.details === "object" ? e.details : {};
  const sig = d.signature;
  const what = el("td", { class: "what" });
  let text = sentence(e);
  if (sig && typeof sig === "object") text = text.replace(/\.$/, "") + " (signed with " + (sig.passkey ? "passkey" : sig.key ? "key " + sig.key : "a signature") + ").";
  what.append(el("span", { class: "sentence" }, text), " ", el("code", { class: "ev", title: "event" }, e.event),
    el("span", { class: "muted" }, " → " + stateWords(e.state)));
  if (sig && typeof sig === "object" && sig.passkey) {
    what.append(" ", el("span", { class: "signed", title: "credential " + sig.passkey }, "signed with passkey " +
      (String(sig.passkey).length > 12 ? String(sig.passkey).slice(0, 12) + "…" : String(sig.passkey))));
  }
  if (d.note) what.append(el("blockquote", { class: "note" }, d.note));
  const rest = Object.keys(d).filter((k) => !SHOWN.has(k));
  if (rest.length) {
    const dl = el("dl", { class: "fields small" });
    for (const k of rest) {
      const v = d[k];
      dl.append(el("dt", {}, FIELD_WORDS[k] || k.replace(/_/g, " ")),
        el("dd", {}, Array.isArray(v) ? v.join(", ") : v && typeof v === "object"
          ? Object.entries(v).map(([a, b]) => a + ": " + b).join("; ") : v));
    }
    what.append(dl);
  }
  if (typeof e.details === "string" && e.details) what.append(el("p", { class: "muted" }, e.details));
  return el("tr", {}, el("td", { class: "when" }, el("time", { datetime: e.at }, when(e.at)), el("span", { class: "muted seq" }, "#" + e.seq)), what);
}

async function loadHistory(ref) {
  const gen = state.gen;
  const res = await api("GET", "/api/v1/tickets/" + encodeURIComponent(ref) + "/history");
  if (gen !== state.gen || !state.ticket || state.ticket.ref !== ref) return;
  const tbody = $("history").tBodies[0];
  clear(tbody);
  if (res.status !== 200) return;
  for (const e of res.data) tbody.append(historyRow(e));
}

// The reply to send (SPEC §11), in the language chosen above it (kept for the next ticket). The
// desk answers its English text when it has none in that language for this state, and says so in
// "lang"; the page says it too. The reply is for agents: others do not see the section.
// The languages offered: English, built in, and those of the sample templates (samples/templates/);
// the API does not say which languages a desk's --templates folder holds.
const LANGUAGES = { en: "English", de: "German (Deutsch)" };

const languageName = (code) => (LANGUAGES[code] || code).replace(/ \(.*\)$/, "");

async function loadReply(ref) {
  $("reply-section").hidden = !hasRole("agent");
  if (!hasRole("agent")) return;
  const lang = $("reply-lang").value || "en";
  const asked = ++state.replyGen;
  $("reply-status").textContent = "";
  const res = await api("GET", "/api/v1/tickets/" + encodeURIComponent(ref) + "/reply?lang=" + encodeURIComponent(lang));
  if (asked !== state.replyGen || !state.ticket || state.ticket.ref !== ref) return;  // a newer choice or ticket
  const ok = res.status === 200 && res.data && typeof res.data === "object";
  $("reply-subject").value = ok ? res.data.subject : "";
  $("reply-body").value = ok ? res.data.body
    : res.data && res.data.error ? res.data.error : "No reply available (HTTP " + res.status + ").";
  $("copy-reply").disabled = !ok;
  const used = ok && res.data.lang ? res.data.lang : lang;
  for (const id of ["reply-subject", "reply-body"]) $(id).lang = ok ? used : "en";
  $("reply-lang-note").textContent = ok && used !== lang
    ? "This desk has no " + languageName(lang) + " text for this state: the " + languageName(used) + " text is shown."
    : "";
}

async function copyReply() {
  const text = $("reply-subject").value + "\n\n" + $("reply-body").value;
  $("reply-status").textContent = await copyText(text, $("reply-body"));
}

async function loadDiagram(ref) {
  const img = $("diagram");
  const res = await fetch("/api/v1/diagram?format=svg&ticket=" + encodeURIComponent(ref),
    { cache: "no-store", credentials: "same-origin" });
  if (state.diagramUrl) URL.revokeObjectURL(state.diagramUrl);
  state.diagramUrl = null;
  if (!res.ok) { img.removeAttribute("src"); img.alt = "The diagram is not available (HTTP " + res.status + ")."; return; }
  // Shown as an image (never inlined): an SVG in <img> runs no script and loads nothing.
  state.diagramUrl = URL.createObjectURL(new Blob([await res.arrayBuffer()], { type: "image/svg+xml" }));
  img.alt = "The state diagram with the path of ticket " + ref + " highlighted";
  img.src = state.diagramUrl;
}
export function closeTicket() {
  state.ticket = null;
  state.event = null;
  $("ticket-panel").hidden = true;
  $("event-form").hidden = true;
  $("desk").classList.remove("with-ticket");
  document.title = "tfadesk — queue";
}

// An entry of the §14 stream: the open ticket is read again when it moved on (keeping a form).
export function liveEntry(e) {
  const t = state.ticket;
  if (!t || e.ref !== t.ref || Number(e.version) <= Number(t.version)) return;
  if (e.agent && e.agent !== state.me.name) {
    $("live-status").textContent = "Updated just now: " + e.agent + " — " + eventWords(e.event) + ".";
  }
  clearTimeout(state.ticketTimer);
  state.ticketTimer = setTimeout(() => {
    if (state.ticket && state.ticket.ref === e.ref && Number(state.ticket.version) < Number(e.version)) {
      openTicket(e.ref, true, false, true);
    }
  }, 150);
}

// Signing out: nothing of the ticket stays in the page.
export function clearTicket() {
  clearTimeout(state.ticketTimer);
  for (const id of ["ticket-fields", "ticket-checks", "events", "assign-actions", "related"]) clear($(id));
  clear($("history").tBodies[0]);
  for (const id of ["ticket-ref", "ticket-state", "ticket-state-words", "ticket-version", "ticket-waiting",
    "ticket-assignee", "ticket-due", "live-status", "reply-status", "reply-lang-note"]) $(id).textContent = "";
  for (const id of ["note", "reference", "requester-email", "reply-subject", "reply-body"]) $(id).value = "";
  $("reply-lang").value = "en";
  showMessage("");
  $("diagram").removeAttribute("src");
  $("event-form").hidden = true;
  $("ticket-panel").hidden = true;
}

export function wireTicket() {
  $("event-form").addEventListener("submit", applyEvent);
  $("event-back").addEventListener("click", () => {
    $("event-form").hidden = true; state.event = null; $("events").querySelector("button")?.focus();
  });
  $("copy-reply").addEventListener("click", copyReply);
  for (const [code, name] of Object.entries(LANGUAGES)) $("reply-lang").append(el("option", { value: code }, name));
  $("reply-lang").addEventListener("change", () => { if (state.ticket) loadReply(state.ticket.ref); });
}
