// What every screen of the page shares (SPEC §15): the session's state, the API call, building
// elements, the words for states, events, rules and fields, times, dialogs and downloads. Every
// value from the server reaches the page through textContent or a form control's value, never as
// HTML. The shell (app.js) lends the screens its navigation through `shell`.

// The words the page shows for the desk's states, events, rules and fields (SPEC §3, §1, §2).
export const STATE_WORDS = {
  received: "Received, not triaged yet",
  awaiting_requester: "Waiting for the requester",
  identity_check: "Identity check",
  self_service_advised: "Self-service advised",
  partner_rejected: "Rejected: a partner's request",
  identity_rejected: "Rejected: identity check failed",
  approved: "Approved, to be submitted",
  disable_submitted: "Disable submitted",
  completed: "Completed: 2FA disabled",
  cancelled: "Cancelled",
  expired: "Expired: no answer in time",
};
export const EVENT_WORDS = {
  "triage": "Triage",
  "update": "Update the requester's answers",
  "check-passed": "Record a passed check",
  "check-failed": "Record a failed check",
  "partner-detected": "Reject as a partner's request",
  "approve": "Approve",
  "submit-disable": "Record the disable as submitted",
  "confirm-disabled": "Confirm 2FA is disabled",
  "disable-failed": "Record that the disable failed",
  "cancel": "Cancel",
  "expire": "Expire (no answer in time)",
  "claim": "Claim",
  "release": "Release",
};
export const RULE_WORDS = {
  R1: "only the client or a portfolio admin may have 2FA disabled",
  R2: "support disables 2FA only for a requester who lost portfolio access",
  R3: "a partner's request is always rejected",
  R4: "the disable is done by a person, with a reference",
  R5: "all three identity checks must pass before approval",
  R6: "four eyes: whoever recorded a check may not approve",
  R7: "a ticket waiting on the requester expires after the SLA",
  R8: "history is append-only; a closed ticket accepts no event",
  R9: "partner memory: related rejected tickets must be acknowledged",
  R10: "four eyes on privilege: no account grants a role to itself or enables itself",
};
export const FIELD_WORDS = {
  phone: "Phone", client_id: "Client id", requester_email: "Requester email", requester_role: "Requester role",
  portfolio_access: "Still has portfolio access", reason: "Reason", waba_id: "WABA id", portfolio_id: "Portfolio id",
  submitted_at: "Submitted", updated_at: "Last change", due_at: "Expires (R7)", note: "Note", reference: "Reference",
};
export const FIELD_ORDER = ["phone", "client_id", "requester_email", "requester_role", "portfolio_access",
  "reason", "waba_id", "portfolio_id", "submitted_at", "updated_at", "due_at", "note"];

// The session as the page knows it; each screen keeps its own members here, and signing out
// resets them all.
export const state = { me: null, ticket: null, etag: null, event: null, diagramUrl: null, passkeys: null,
  queue: null, counts: null, pageUrl: null, firstUrl: null, nextUrl: null, stream: null, refreshTimer: null,
  ticketTimer: null, gen: 0, replyGen: 0 };

// What the shell (app.js) lends the screens, set when it starts: navigate(url, replace) shows the
// page at a URL of ours; enter(me) opens the desk for a signed-in account; signedOut(note) clears it.
export const shell = { navigate: null, enter: null, signedOut: null };

export const $ = (id) => document.getElementById(id);

// el("li", {class: "x", dataset: {ref: "A"}}, "text", child...): text children become text nodes.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

export async function api(method, path, body, headers) {
  // Signed in by the session cookie (SPEC §13): the page holds no token, and every request
  // says it comes from the page, which no other site's form or script can.
  const h = Object.assign({ "X-Requested-With": "tfadesk" }, headers || {});
  const init = { method, headers: h, cache: "no-store", credentials: "same-origin" };
  if (body !== undefined) {
    h["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const type = res.headers.get("Content-Type") || "";
  const data = type.startsWith("application/json") ? await res.json().catch(() => null) : await res.text();
  if (res.status === 401 && state.me) shell.signedOut("Your session has ended; sign in again.");
  return { status: res.status, data, etag: res.headers.get("ETag"), headers: res.headers };
}

// The desk's error in one line: its message and code, else the HTTP status.
export function errorText(res) {
  const e = res.data && typeof res.data === "object" ? res.data : null;
  return e && e.error ? e.error + (e.code ? " [" + e.code + "]" : "") : "HTTP " + res.status;
}

export const stateWords = (s) => STATE_WORDS[s] || String(s).replace(/_/g, " ");
export const eventWords = (e) => EVENT_WORDS[e] || e;
export const hasRole = (r) => !!(state.me && state.me.roles.includes(r));

// A click on one of the page's links: handled here, unless the reader asked for a new tab or window.
export function linkClick(ev) {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  shell.navigate(ev.currentTarget.getAttribute("href"));
}

// ---- times --------------------------------------------------------------------------------
export function span(ms) {
  const m = Math.max(0, Math.floor(ms / 60000));
  const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), min = m % 60;
  if (d) return d + " d" + (h ? " " + h + " h" : "");
  if (h) return h + " h" + (min ? " " + min + " min" : "");
  return min + " min";
}
export const age = (iso) => iso ? span(Date.now() - Date.parse(iso)) : "";
export function timeLeft(iso) {
  if (!iso) return "";
  const ms = Date.parse(iso) - Date.now();
  return ms <= 0 ? "overdue" : span(ms) + " left";
}
export function when(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return String(iso || "");
  const p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
}
export const last4 = (phone) => { const d = String(phone || "").replace(/\D/g, ""); return d ? "…" + d.slice(-4) : ""; };
export const today = () => new Date().toISOString().slice(0, 10);
// A datetime-local value (the reader's local time) as an ISO instant, or "" when empty.
export function localToIso(v) {
  if (!v) return "";
  const d = new Date(v);
  return isNaN(d) ? "" : d.toISOString();
}

// ---- messages, dialogs, files ---------------------------------------------------------------
// A screen's message box: kind "ok" (done), "info" (nothing happened), else a problem.
export function toolMessage(id, text, kind) {
  const m = $(id);
  clear(m);
  m.classList.toggle("ok", kind === "ok");
  m.classList.toggle("info", kind === "info");
  if (text) m.append(text);
}

// Asks a yes/no question in the page's dialog; answers true for yes.
export function ask(title, text, yes) {
  const d = $("ask-dialog");
  $("ask-h").textContent = title;
  $("ask-text").textContent = text;
  $("ask-yes").textContent = yes;
  return new Promise((resolve) => {
    d.returnValue = "";
    d.addEventListener("close", () => resolve(d.returnValue === "yes"), { once: true });
    d.showModal();
    $("ask-no").focus();
  });
}

// Copies text to the clipboard; where the browser refuses, selects `field` for Ctrl+C instead.
// Answers the words to show.
export async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return "Copied.";
  } catch (e) {
    field.focus();
    field.select();
    return document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C to copy.";
  }
}

// Saves a blob as a file, through a short-lived object URL.
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name, hidden: "" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// GETs a file with the session cookie and saves it; answers [ok, text to show].
export async function download(path, name) {
  const res = await fetch(path, { cache: "no-store", credentials: "same-origin", headers: { "X-Requested-With": "tfadesk" } });
  if (!res.ok) {
    let why = "HTTP " + res.status;
    try { const e = await res.json(); if (e && e.error) why = e.error; } catch (_) { /* not JSON */ }
    return [false, "Not downloaded: " + why + "."];
  }
  const blob = await res.blob();
  saveBlob(blob, name);
  return [true, "Downloaded " + name + " (" + blob.size + " bytes)."];
}
