// The agent page: plain JavaScript over the desk's JSON API (/api/v1). Every value from the
// server reaches the page through textContent or a form control's value, never as HTML.
"use strict";

(function () {
  const TOKEN_KEY = "tfadesk.token";
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
  const FIELD_ORDER = ["ref", "phone", "client_id", "requester_email", "requester_role", "portfolio_access",
    "reason", "waba_id", "portfolio_id", "submitted_at", "note", "updated_at"];

  const $ = (id) => document.getElementById(id);
  const state = { me: null, tickets: [], filter: null, ticket: null, etag: null, event: null, diagramUrl: null };

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
    const h = Object.assign({ "Authorization": "Bearer " + sessionStorage.getItem(TOKEN_KEY) }, headers || {});
    const init = { method, headers: h, cache: "no-store" };
    if (body !== undefined) {
      h["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const type = res.headers.get("Content-Type") || "";
    const data = type.startsWith("application/json") ? await res.json().catch(() => null) : await res.text();
    if (res.status === 401 && path !== "/api/v1/me") signOut("Your token is no longer accepted; sign in again.");
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
  async function signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    const res = await api("GET", "/api/v1/me");
    if (res.status !== 200) {
      sessionStorage.removeItem(TOKEN_KEY);
      $("signin-error").textContent = res.status === 401 ? "This token is not accepted by the desk."
        : "Could not sign in (HTTP " + res.status + ").";
      return;
    }
    state.me = res.data;
    $("signin-error").textContent = "";
    $("who-name").textContent = state.me.name;
    $("who-roles").textContent = "(" + state.me.roles.join(", ") + ")";
    $("who").hidden = false;
    $("signin").hidden = true;
    $("desk").hidden = false;
    await loadQueue();
    const ref = decodeURIComponent(location.hash.replace(/^#/, ""));
    if (/^[A-Za-z0-9._-]{1,64}$/.test(ref)) await openTicket(ref);
    else $("refresh").focus();
  }

  function signOut(note) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.me = state.ticket = null;
    $("who").hidden = true;
    $("desk").hidden = true;
    $("ticket-panel").hidden = true;
    $("signin").hidden = false;
    $("token").value = "";
    $("signin-error").textContent = note || "";
    $("token").focus();
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
      const res = await api("POST", "/api/v1/tickets/" + encodeURIComponent(t.ref) + "/events", body,
        state.etag ? { "If-Match": state.etag } : {});
      if (res.status === 200) {
        showMessage(name + " recorded: the ticket is now " + res.data.state + ".", true);
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
        el("td", { class: "details" }, JSON.stringify(e.details)), el("td", {}, e.state)));
    }
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
      { headers: { "Authorization": "Bearer " + sessionStorage.getItem(TOKEN_KEY) }, cache: "no-store" });
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
    $("sign-out").addEventListener("click", () => signOut());
    $("refresh").addEventListener("click", loadQueue);
    $("event-form").addEventListener("submit", applyEvent);
    $("event-back").addEventListener("click", () => { $("event-form").hidden = true; $("events").querySelector("button")?.focus(); });
    $("copy-reply").addEventListener("click", copyReply);
    document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !$("event-form").hidden) $("event-back").click(); });
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved); else $("token").focus();
  });
})();
