// The agent page: plain JavaScript over the desk's JSON API (/api/v1). Every value from the
// server reaches the page through textContent or a form control's value, never as HTML.
"use strict";

(function () {
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
  const FIELD_ORDER = ["ref", "phone", "client_id", "requester_email", "requester_role", "portfolio_access",
    "reason", "waba_id", "portfolio_id", "submitted_at", "note", "updated_at"];

  const $ = (id) => document.getElementById(id);
  const state = { me: null, tickets: [], filter: null, ticket: null, etag: null, event: null, diagramUrl: null,
    passkeys: null };

  // el("li", {class: "x", dataset: {ref: "A"}}, "text", child...): text children become text nodes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  async function api(method, path, body, headers) {
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
    if (res.status === 401 && state.me) signedOut("Your session has ended; sign in again.");
    return { status: res.status, data, etag: res.headers.get("ETag") };
  }

  // ---- messages ---------------------------------------------------------------------------
  function showMessage(text, ok) {
    const m = $("message");
    clear(m);
    m.classList.toggle("ok", !!ok);
    if (text) m.append(text);
  }

  function showError(res, what) {
    const e = res.data && typeof res.data === "object" ? res.data : { error: String(res.data || "HTTP " + res.status) };
    const m = $("message");
    clear(m);
    m.classList.remove("ok");
    if (e.code === "refused") {
      m.append("Refused by ", el("span", { class: "rule" }, e.rule || "the workflow"),
        e.state ? " (state " + e.state + ")" : "", ": " + e.error);
    } else if (e.code === "stale") {
      m.append("The ticket changed since you read it, so nothing was applied; it is shown again as it is now. ", e.error);
    } else {
      m.append((what ? what + ": " : "") + e.error + (e.code ? " [" + e.code + "]" : ""));
    }
  }

  // ---- sign in ----------------------------------------------------------------------------
  // The token is sent once, to start a session; the page keeps only the cookie the server sets.
  async function signIn(token) {
    const res = await api("POST", "/api/v1/session", { token });
    $("token").value = "";
    if (res.status !== 201) {
      $("signin-error").textContent = res.status === 401 ? "This token is not accepted by the desk."
        : "Could not sign in (HTTP " + res.status + ").";
      return;
    }
    await enter(res.data);
  }

  // A session that is already open (another tab, a reload) is used as it is.
  async function resume() {
    const res = await api("GET", "/api/v1/session");
    if (res.status === 200) await enter(res.data);
    else $("token").focus();
  }

  async function enter(me) {
    state.me = me;
    $("signin-error").textContent = "";
    $("who-name").textContent = state.me.name;
    $("who-roles").textContent = "(" + state.me.roles.join(", ") + ")";
    $("who").hidden = false;
    $("signin").hidden = true;
    $("desk").hidden = false;
    passkeyStatus("");
    await Promise.all([loadQueue(), loadPasskeys()]);
    const ref = decodeURIComponent(location.hash.replace(/^#/, ""));
    if (/^[A-Za-z0-9._-]{1,64}$/.test(ref)) await openTicket(ref);
    else $("refresh").focus();
  }

  async function signOut() {
    await api("DELETE", "/api/v1/session");
    history.replaceState(null, "", location.pathname);  // the next person starts on no ticket
    signedOut("");
  }

  function signedOut(note) {
    state.me = state.ticket = state.passkeys = null;
    renderPasskeys();
    passkeyStatus("");
    $("who").hidden = true;
    $("desk").hidden = true;
    $("ticket-panel").hidden = true;
    $("signin").hidden = false;
    $("token").value = "";
    $("signin-error").textContent = note || "";
    $("token").focus();
  }

  // ---- passkeys (SPEC §13) --------------------------------------------------------------------
  // Options and credentials travel as JSON with base64url binary fields: the browser parses the
  // server's options and serialises its answer with toJSON().
  function passkeysSupported(kind) {
    const P = window.PublicKeyCredential;
    return !!(P && navigator.credentials && typeof P[kind] === "function" && typeof P.prototype.toJSON === "function");
  }

  // What a failed WebAuthn ceremony means, in words (the DOMException's name says why).
  function ceremonyError(e, what) {
    switch (e && e.name) {
      case "NotAllowedError":
        return what + " was cancelled or timed out, or no passkey of this desk is on this device; nothing was sent.";
      case "InvalidStateError":
        return "This device already holds a passkey for this account.";
      case "SecurityError":
        return what + " is not allowed on this address (" + location.hostname + "); open the desk by its name.";
      case "AbortError":
        return what + " was interrupted; nothing was sent.";
      default:
        return what + " failed: " + (e && e.message ? e.message : String(e)) + ".";
    }
  }

  function errorText(res) {
    const e = res.data && typeof res.data === "object" ? res.data : null;
    return e && e.error ? e.error + (e.code ? " [" + e.code + "]" : "") : "HTTP " + res.status;
  }

  async function signInWithPasskey() {
    const out = $("signin-error");
    out.textContent = "";
    if (!passkeysSupported("parseRequestOptionsFromJSON")) {
      out.textContent = "This browser cannot sign in with a passkey; use your token, or a current browser.";
      return;
    }
    const button = $("passkey-sign-in");
    button.disabled = true;
    try {
      const opts = await api("POST", "/api/v1/session/options", {});
      if (opts.status !== 200) {
        out.textContent = "Could not start a passkey sign-in: " + errorText(opts);
        return;
      }
      let credential;
      try {
        credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(opts.data) });
      } catch (e) {
        out.textContent = ceremonyError(e, "The passkey sign-in");
        return;
      }
      if (!credential) { out.textContent = "No passkey was chosen; nothing was sent."; return; }
      const res = await api("POST", "/api/v1/session", { assertion: credential.toJSON() });
      if (res.status !== 201) {
        out.textContent = (res.status === 401 || res.status === 403
          ? "The desk did not accept this passkey: " : "Could not sign in: ") + errorText(res);
        return;
      }
      await enter(res.data);
    } finally {
      button.disabled = false;
    }
  }

  function passkeyStatus(text, kind) {
    const s = $("passkey-status");
    s.textContent = text || "";
    s.classList.toggle("error", kind === "error");
    s.classList.toggle("ok", kind === "ok");
  }

  function renderPasskeys() {
    const n = state.passkeys ? state.passkeys.length : null;
    $("passkey-count").textContent = n === null ? "?" : String(n);
    $("passkey-count").title = n === null ? "" : n + " passkey" + (n === 1 ? "" : "s") + " registered to your account";
  }

  async function loadPasskeys() {
    const res = await api("GET", "/api/v1/me/passkeys");
    if (res.status === 200 && Array.isArray(res.data)) {
      state.passkeys = res.data;
    } else {
      state.passkeys = null;
      passkeyStatus("Could not read your passkeys: " + errorText(res), "error");
    }
    renderPasskeys();
  }

  async function addPasskey() {
    if (!passkeysSupported("parseCreationOptionsFromJSON")) {
      passkeyStatus("This browser cannot create passkeys.", "error");
      return;
    }
    const button = $("passkey-add");
    button.disabled = true;
    passkeyStatus("Follow your device's prompt…");
    try {
      const opts = await api("POST", "/api/v1/me/passkeys/options", {});
      if (opts.status !== 200) { passkeyStatus("Could not start: " + errorText(opts), "error"); return; }
      let credential;
      try {
        credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(opts.data) });
      } catch (e) {
        passkeyStatus(ceremonyError(e, "Adding a passkey"), "error");
        return;
      }
      if (!credential) { passkeyStatus("No passkey was created.", "error"); return; }
      const res = await api("POST", "/api/v1/me/passkeys", credential.toJSON());
      if (res.status !== 201) { passkeyStatus("The desk did not register the passkey: " + errorText(res), "error"); return; }
      await loadPasskeys();
      passkeyStatus("Passkey added: your decisions are signed with it.", "ok");
    } finally {
      button.disabled = false;
    }
  }

  function hasPasskey() { return !!(state.passkeys && state.passkeys.length); }

  // Signs the decision `body` (as it will be posted) with a passkey: the desk answers request
  // options whose challenge is the SHA-256 of the decision text; the assertion goes with the event.
  // Returns {assertion} or {res} (the desk's refusal) or {error} (the ceremony failed).
  async function signDecision(ref, body, headers) {
    if (!passkeysSupported("parseRequestOptionsFromJSON")) return { error: "This browser cannot sign with a passkey." };
    const opts = await api("POST", "/api/v1/tickets/" + encodeURIComponent(ref) + "/events/options", body, headers);
    if (opts.status !== 200) return { res: opts };
    try {
      const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(opts.data) });
      if (!credential) return { error: "No passkey was chosen." };
      return { assertion: credential.toJSON() };
    } catch (e) {
      return { error: ceremonyError(e, "Signing with your passkey") };
    }
  }

  // ---- the queue --------------------------------------------------------------------------
  function ticketButton(t) {
    return el("li", {}, el("button", { type: "button", dataset: { ref: t.ref }, onclick: () => openTicket(t.ref) },
      el("span", {}, t.ref), el("span", { class: "st" }, t.state)));
  }

  function allChecksPassed(t) { return CHECKS.every((c) => t.checks && Object.prototype.hasOwnProperty.call(t.checks, c)); }

  async function loadQueue() {
    const res = await api("GET", "/api/v1/tickets");
    if (res.status !== 200) return showError(res, "Queue");
    state.tickets = res.data;
    renderQueue();
  }

  function renderQueue() {
    const counts = new Map();
    for (const t of state.tickets) counts.set(t.state, (counts.get(t.state) || 0) + 1);
    const states = $("states");
    clear(states);
    const filterButton = (label, value, n) => el("li", {}, el("button", {
      type: "button", "aria-pressed": String(state.filter === value), dataset: { state: value || "" },
      onclick: () => { state.filter = value; renderQueue(); },
    }, label, el("span", { class: "count", "aria-label": n + " tickets" }, n)));
    states.append(filterButton("all", null, state.tickets.length));
    for (const [s, n] of [...counts.entries()].sort()) states.append(filterButton(s, s, n));
    $("queue-total").textContent = state.tickets.length + " ticket" + (state.tickets.length === 1 ? "" : "s");
    $("queue-title").textContent = state.filter ? "In " + state.filter : "All tickets";
    const queue = $("queue");
    clear(queue);
    for (const t of state.tickets) if (!state.filter || t.state === state.filter) queue.append(ticketButton(t));
    if (!queue.firstChild) queue.append(el("li", { class: "muted" }, "Nothing here."));
    const ready = $("approver-list");
    clear(ready);
    for (const t of state.tickets) if (t.state === "identity_check" && allChecksPassed(t)) ready.append(ticketButton(t));
    if (!ready.firstChild) ready.append(el("li", { class: "muted" }, "No ticket is waiting for approval."));
  }

  // ---- one ticket -------------------------------------------------------------------------
  async function openTicket(ref, keepMessage) {
    const res = await api("GET", "/api/v1/tickets/" + encodeURIComponent(ref));
    if (res.status !== 200) { $("ticket-panel").hidden = false; return showError(res, "Ticket " + ref); }
    state.ticket = res.data;
    state.etag = res.etag;
    history.replaceState(null, "", "#" + encodeURIComponent(ref));
    if (!keepMessage) showMessage("");
    renderTicket();
    $("ticket-panel").hidden = false;
    $("ticket-h").focus();
    await Promise.all([loadHistory(ref), loadReply(ref), loadDiagram(ref)]);
  }

  function renderTicket() {
    const t = state.ticket;
    $("ticket-ref").textContent = t.ref;
    $("ticket-state").textContent = t.state;
    $("ticket-version").textContent = t.version;
    $("ticket-waiting").textContent = t.waiting_for;
    const dl = $("ticket-fields");
    clear(dl);
    for (const k of FIELD_ORDER) if (t[k] !== undefined && t[k] !== null) dl.append(el("dt", {}, k), el("dd", {}, t[k]));
    const checks = $("ticket-checks");
    clear(checks);
    for (const c of CHECKS) {
      checks.append(el("li", {}, c + ": " + (t.checks && t.checks[c] ? "passed, recorded by " + t.checks[c] : "not yet")));
    }
    const events = $("events");
    clear(events);
    for (const name of t.next_events) {
      events.append(el("button", { type: "button", class: "secondary", dataset: { event: name }, onclick: () => chooseEvent(name) }, name));
    }
    if (!t.next_events.length) events.append(el("p", { class: "muted" }, "The ticket is closed: it accepts no event."));
    $("event-form").hidden = true;
  }

  function chooseEvent(name) {
    const need = NEEDS[name] || {};
    state.event = name;
    $("event-legend").textContent = name + " — " + state.ticket.ref;
    $("f-check").hidden = !need.check;
    for (const id of ["f-role", "f-access", "f-email"]) $(id).hidden = !need.update;
    $("f-reference").hidden = !need.reference;
    $("note-label").textContent = need.note === "required" ? "Note (required)" : "Note (optional)";
    $("note").required = need.note === "required";
    $("reference").required = !!need.reference;
    for (const id of ["note", "reference", "requester-email"]) $(id).value = "";
    $("role").value = $("access").value = "";
    if (need.check) {
      const next = CHECKS.find((c) => !(state.ticket.checks && state.ticket.checks[c]));
      if (next) $("check").value = next;
    }
    $("event-form").hidden = false;
    (need.check ? $("check") : need.reference ? $("reference") : need.update ? $("role") : $("note")).focus();
  }

  async function applyEvent(ev) {
    ev.preventDefault();
    const name = state.event, need = NEEDS[name] || {}, t = state.ticket;
    const body = { event: name };
    if (need.check) body.check = $("check").value;
    if (need.reference) body.reference = $("reference").value;
    if (need.update) {
      if ($("role").value) body.role = $("role").value;
      if ($("access").value) body.access = $("access").value;
      if ($("requester-email").value) body.requester_email = $("requester-email").value;
    }
    if ($("note").value.trim()) body.note = $("note").value;
    $("event-submit").disabled = true;
    try {
      const headers = state.etag ? { "If-Match": state.etag } : {};
      // A decision is signed with the account's passkey when it has one (SPEC §13).
      const signed = DECISIONS.has(name) && hasPasskey();
      let sent = body;
      if (signed) {
        const sig = await signDecision(t.ref, body, headers);
        if (sig.error) { showMessage(sig.error + " The " + name + " was not applied."); return; }
        if (sig.res) {
          showError(sig.res, name);
          if (sig.res.data && sig.res.data.code === "stale") await openTicket(t.ref, true);
          return;
        }
        sent = Object.assign({}, body, { assertion: sig.assertion });
      }
      const res = await api("POST", "/api/v1/tickets/" + encodeURIComponent(t.ref) + "/events", sent, headers);
      if (res.status === 200) {
        showMessage(name + " recorded" + (signed ? ", signed with your passkey" : "") +
          ": the ticket is now " + res.data.state + ".", true);
        await Promise.all([openTicket(t.ref, true), loadQueue()]);
      } else {
        showError(res, name);
        if (res.data && res.data.code === "stale") await openTicket(t.ref, true);
        else $("event-form").hidden = true;
      }
    } finally {
      $("event-submit").disabled = false;
    }
  }

  async function loadHistory(ref) {
    const tbody = $("history").tBodies[0];
    clear(tbody);
    const res = await api("GET", "/api/v1/tickets/" + encodeURIComponent(ref) + "/history");
    if (res.status !== 200) return;
    for (const e of res.data) {
      tbody.append(el("tr", {}, el("td", {}, e.seq), el("td", {}, e.at), el("td", {}, e.agent), el("td", {}, e.event),
        detailsCell(e.details), el("td", {}, e.state)));
    }
  }

  // An entry's details; a decision's signature (SPEC §13) is named in words, not dumped as bytes.
  function detailsCell(details) {
    const d = Object.assign({}, details || {});
    const sig = d.signature;
    delete d.signature;
    const cell = el("td", { class: "details" });
    if (Object.keys(d).length) cell.append(JSON.stringify(d));
    if (sig && typeof sig === "object") {
      const short = (id) => String(id).length > 12 ? String(id).slice(0, 12) + "…" : String(id);
      const how = sig.passkey ? "signed with passkey " + short(sig.passkey)
        : sig.key ? "signed with key " + sig.key : "signed";
      cell.append(el("span", { class: "signed", title: sig.passkey ? "credential " + sig.passkey : "" }, how));
    }
    return cell;
  }

  async function loadReply(ref) {
    $("reply-status").textContent = "";
    const res = await api("GET", "/api/v1/tickets/" + encodeURIComponent(ref) + "/reply");
    if (res.status === 200) {
      $("reply-subject").value = res.data.subject;
      $("reply-body").value = res.data.body;
      $("copy-reply").disabled = false;
    } else {
      $("reply-subject").value = "";
      $("reply-body").value = res.data && res.data.error ? res.data.error : "No reply available (HTTP " + res.status + ").";
      $("copy-reply").disabled = true;
    }
  }

  async function copyReply() {
    const text = $("reply-subject").value + "\n\n" + $("reply-body").value;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      $("reply-body").select();
      document.execCommand("copy");
    }
    $("reply-status").textContent = "Copied.";
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

  // ---- wiring -----------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", (ev) => { ev.preventDefault(); signIn($("token").value.trim()); });
    $("passkey-sign-in").addEventListener("click", signInWithPasskey);
    $("passkey-add").addEventListener("click", addPasskey);
    $("sign-out").addEventListener("click", () => signOut());
    $("refresh").addEventListener("click", loadQueue);
    $("event-form").addEventListener("submit", applyEvent);
    $("event-back").addEventListener("click", () => { $("event-form").hidden = true; $("events").querySelector("button")?.focus(); });
    $("copy-reply").addEventListener("click", copyReply);
    document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !$("event-form").hidden) $("event-back").click(); });
    resume();
  });
})();
