// The desk's page (SPEC §15): plain JavaScript over the desk's JSON API (/api/v1). Every value
// from the server reaches the page through textContent or a form control's value, never as HTML.
// Each view has its own URL (/queue?view=…&q=…, /tickets/REF); back and forward work.
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
  // Events that close the ticket for good: the page asks before sending them.
  const CLOSING = {
    "cancel": "The ticket will be cancelled and accept no further event.",
    "disable-failed": "The ticket will be closed as failed and accept no further event.",
    "confirm-disabled": "The ticket will be completed: 2FA is recorded as disabled, and the ticket accepts no further event.",
    "check-failed": "The request will be rejected for a failed identity check, for good.",
    "partner-detected": "The request will be rejected as a partner's, for good.",
  };
  const STATE_WORDS = {
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
  const EVENT_WORDS = {
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
  const RULE_WORDS = {
    R1: "only the client or a portfolio admin may have 2FA disabled",
    R2: "support disables 2FA only for a requester who lost portfolio access",
    R3: "a partner's request is always rejected",
    R4: "the disable is done by a person, with a reference",
    R5: "all three identity checks must pass before approval",
    R6: "four eyes: whoever recorded a check may not approve",
    R7: "a ticket waiting on the requester expires after the SLA",
    R8: "history is append-only; a closed ticket accepts no event",
    R9: "partner memory: related rejected tickets must be acknowledged",
    R10: "four eyes on privilege",
  };
  const FIELD_WORDS = {
    phone: "Phone", client_id: "Client id", requester_email: "Requester email", requester_role: "Requester role",
    portfolio_access: "Still has portfolio access", reason: "Reason", waba_id: "WABA id", portfolio_id: "Portfolio id",
    submitted_at: "Submitted", updated_at: "Last change", due_at: "Expires (R7)", note: "Note", reference: "Reference",
  };
  const FIELD_ORDER = ["phone", "client_id", "requester_email", "requester_role", "portfolio_access",
    "reason", "waba_id", "portfolio_id", "submitted_at", "updated_at", "due_at", "note"];
  const VIEWS = {
    mine: { label: "Mine", count: "mine", params: { open: "true", assignee: "me" } },
    unassigned: { label: "Unassigned", count: "unassigned", params: { open: "true", assignee: "none" } },
    overdue: { label: "Overdue", count: "overdue", params: { overdue: "true" } },
    ready: { label: "Ready for my approval", count: "ready_for_me", params: { ready_for: "me" } },
    all: { label: "All open", count: "open", params: { open: "true" } },
  };
  const PAGE = 50;

  const $ = (id) => document.getElementById(id);
  const state = { me: null, ticket: null, etag: null, event: null, diagramUrl: null, passkeys: null,
    queue: null, counts: null, pageUrl: null, firstUrl: null, nextUrl: null, stream: null, refreshTimer: null,
    ticketTimer: null, gen: 0 };

  // el("li", {class: "x", dataset: {ref: "A"}}, "text", child...): text children become text nodes.
  function el(tag, attrs, ...children) {
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
    return { status: res.status, data, etag: res.headers.get("ETag"), headers: res.headers };
  }

  const stateWords = (s) => STATE_WORDS[s] || String(s).replace(/_/g, " ");
  const eventWords = (e) => EVENT_WORDS[e] || e;
  const hasRole = (r) => !!(state.me && state.me.roles.includes(r));

  // ---- times ------------------------------------------------------------------------------
  function span(ms) {
    const m = Math.max(0, Math.floor(ms / 60000));
    const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), min = m % 60;
    if (d) return d + " d" + (h ? " " + h + " h" : "");
    if (h) return h + " h" + (min ? " " + min + " min" : "");
    return min + " min";
  }
  const age = (iso) => iso ? span(Date.now() - Date.parse(iso)) : "";
  function timeLeft(iso) {
    if (!iso) return "";
    const ms = Date.parse(iso) - Date.now();
    return ms <= 0 ? "overdue" : span(ms) + " left";
  }
  function when(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return String(iso || "");
    const p = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }
  const last4 = (phone) => { const d = String(phone || "").replace(/\D/g, ""); return d ? "…" + d.slice(-4) : ""; };

  // ---- messages ---------------------------------------------------------------------------
  // kind: true or "ok" (done), "info" (nothing happened), else a problem.
  function showMessage(text, ok) {
    const m = $("message");
    clear(m);
    m.classList.toggle("ok", ok === true || ok === "ok");
    m.classList.toggle("info", ok === "info");
    if (text) m.append(text);
  }

  function showError(res, what) {
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
    $("approver-box").hidden = !hasRole("approver");
    $("nav-import").hidden = !hasRole("operator");
    $("nav-audit").hidden = !hasRole("auditor");
    passkeyStatus("");
    startStream();
    if (location.pathname === "/" || location.pathname === "") history.replaceState(null, "", queueUrl(defaultView(), ""));
    await Promise.all([route(true), loadPasskeys()]);
  }

  async function signOut() {
    await api("DELETE", "/api/v1/session");
    history.replaceState(null, "", "/");  // the next person starts on no ticket and no search
    signedOut("");
  }

  function signedOut(note) {
    state.me = state.ticket = state.passkeys = state.queue = state.counts = null;
    state.pageUrl = state.firstUrl = state.nextUrl = state.queueKey = state.actionsKey = state.readyKey = null;
    state.gen++;
    if (state.stream) { state.stream.close(); state.stream = null; }
    clearTimeout(state.refreshTimer);
    clearTimeout(state.ticketTimer);
    renderPasskeys();
    passkeyStatus("");
    // Nothing of what was shown stays in the page.
    for (const id of ["queue", "views", "states", "approver-list", "ticket-fields", "ticket-checks", "events", "assign-actions", "related"]) clear($(id));
    clear($("history").tBodies[0]);
    for (const id of ["queue-total", "ticket-ref", "ticket-state", "ticket-state-words", "ticket-version", "ticket-waiting",
      "ticket-assignee", "ticket-due", "live-status"]) $(id).textContent = "";
    for (const id of ["search", "note", "reference", "requester-email", "reply-subject", "reply-body"]) $(id).value = "";
    showMessage("");
    $("diagram").removeAttribute("src");
    $("event-form").hidden = true;
    $("who").hidden = true;
    $("desk").hidden = true;
    $("ticket-panel").hidden = true;
    clearTools();
    $("import-panel").hidden = $("audit-panel").hidden = true;
    $("nav-import").hidden = $("nav-audit").hidden = true;
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


  // ---- URLs and navigation ------------------------------------------------------------------
  function defaultView() { return hasRole("approver") && !hasRole("agent") ? "ready" : "all"; }

  function queueUrl(view, q, st) {
    const p = new URLSearchParams();
    p.set("view", view);
    if (q) p.set("q", q);
    if (st) p.set("state", st);
    return "/queue?" + p.toString();
  }

  // What the address bar asks for: {view, q, st} of the queue, and the open ticket's ref (or null).
  function parseLocation() {
    const u = new URL(location.href);
    const m = u.pathname.match(/^\/tickets\/([^/]+)\/?$/);
    const p = u.searchParams;
    let view = p.get("view");
    if (!VIEWS[view]) view = defaultView();
    const tool = u.pathname.match(/^\/(import|audit)\/?$/);
    return { ref: m ? decodeURIComponent(m[1]) : null, view, q: (p.get("q") || "").trim(), st: p.get("state") || "",
      page: tool ? tool[1] : null };
  }

  function navigate(url, replace) {
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    return route(false);
  }

  // A click on one of the page's links: handled here, unless the reader asked for a new tab or window.
  function linkClick(ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    navigate(ev.currentTarget.getAttribute("href"));
  }

  async function route(first) {
    if (!state.me) return;
    const at = parseLocation();
    if (at.page && !hasRole(TOOLS[at.page])) {
      // A screen of a role this account lacks: the queue instead.
      history.replaceState(null, "", queueUrl(defaultView(), ""));
      return route(first);
    }
    showSection(at.page);
    if (at.page) {
      closeTicket();
      document.title = "tfadesk — " + (at.page === "import" ? "import" : "audit");
      if (at.page === "import") loadStats();
      if (!first) $(at.page + "-h").focus();
      return;
    }
    if (at.ref) {
      // The queue beside a ticket keeps the last one looked at.
      if (!state.queue) state.queue = { view: defaultView(), q: "", st: "" };
      const loads = [openTicket(at.ref, false, !first)];
      if (first || !state.pageUrl) loads.push(loadQueue());
      $("desk").classList.add("with-ticket");
      await Promise.all(loads);
    } else {
      const q = state.queue;
      const changed = !q || q.view !== at.view || q.q !== at.q || q.st !== at.st;
      state.queue = { view: at.view, q: at.q, st: at.st };
      closeTicket();
      if (changed || first) { state.firstUrl = null; await loadQueue(); }
      if (!first) $("queue-h").focus();
    }
    $("back-to-queue").setAttribute("href", queueUrl(state.queue.view, state.queue.q, state.queue.st));
  }

  function closeTicket() {
    state.ticket = null;
    state.event = null;
    $("ticket-panel").hidden = true;
    $("event-form").hidden = true;
    $("desk").classList.remove("with-ticket");
    document.title = "tfadesk — queue";
  }

  // ---- the queue --------------------------------------------------------------------------
  function apiUrlFor(q) {
    const p = new URLSearchParams(q.st ? {} : VIEWS[q.view].params);
    if (q.st) p.set("state", q.st);
    if (q.view === "mine" && q.st) p.set("assignee", "me");
    if (q.q) p.set("q", q.q);
    p.set("sort", "due_at");
    p.set("limit", String(PAGE));
    return "/api/v1/tickets?" + p.toString();
  }

  function nextLink(headers) {
    const link = headers && headers.get("Link");
    if (!link) return null;
    for (const part of link.split(",")) {
      const m = part.match(/<([^>]*)>\s*;\s*rel="?next"?/);
      if (m) return m[1];
    }
    return null;
  }

  // Loads the queue's current page (or its first when the view changed) and the counts.
  async function loadQueue(url) {
    const gen = state.gen;
    if (url) state.pageUrl = url;
    else if (!state.firstUrl || state.firstUrl !== apiUrlFor(state.queue)) {
      state.firstUrl = apiUrlFor(state.queue);
      state.pageUrl = state.firstUrl;
    }
    const [res] = await Promise.all([api("GET", state.pageUrl), loadCounts(), loadReady()]);
    if (gen !== state.gen || !state.me) return;
    if (res.status !== 200) return showError(res, "Queue");
    state.nextUrl = nextLink(res.headers);
    state.total = Number(res.headers.get("X-Total-Count"));
    renderQueue(res.data);
  }

  async function loadCounts() {
    const res = await api("GET", "/api/v1/counts");
    if (res.status !== 200 || !state.me) return;
    state.counts = res.data;
    renderViews();
  }

  async function loadReady() {
    if (!hasRole("approver")) return;
    const res = await api("GET", "/api/v1/tickets?ready_for=me&sort=submitted_at&limit=10");
    if (res.status !== 200 || !state.me) return;
    const list = $("approver-list");
    const key = JSON.stringify(res.data.map((t) => t.ref));
    if (key === state.readyKey && list.firstChild) return;
    state.readyKey = key;
    clear(list);
    for (const t of res.data) {
      list.append(el("li", {}, el("a", { href: "/tickets/" + encodeURIComponent(t.ref), dataset: { ref: t.ref }, onclick: linkClick },
        el("span", {}, t.ref), el("span", { class: "st" }, last4(t.phone) + " · " + age(t.submitted_at) + " old"))));
    }
    if (!list.firstChild) list.append(el("li", { class: "muted" }, "No ticket is waiting for your approval."));
  }

  function renderViews() {
    const c = state.counts || {}, q = state.queue || { view: defaultView() };
    const ul = $("views");
    clear(ul);
    let order = ["mine", "unassigned", "overdue", "ready", "all"];
    if (!hasRole("approver")) order = order.filter((v) => v !== "ready");
    else if (!hasRole("agent")) order = ["ready", "all", "overdue", "unassigned", "mine"];
    for (const v of order) {
      const n = c[VIEWS[v].count];
      const current = !q.st && q.view === v;
      const a = el("a", { href: queueUrl(v, q.q, ""), dataset: { view: v }, onclick: linkClick },
        VIEWS[v].label, el("span", { class: "count", dataset: { count: v } }, n === undefined ? "…" : n));
      if (current) a.setAttribute("aria-current", "page");
      ul.append(el("li", {}, a));
    }
    const states = $("states");
    clear(states);
    for (const [s, n] of Object.entries(c.states || {})) {
      if (!n) continue;
      states.append(el("li", {}, el("button", {
        type: "button", "aria-pressed": String(q.st === s), dataset: { state: s },
        onclick: () => navigate(queueUrl(q.view, q.q, q.st === s ? "" : s)),
      }, stateWords(s), el("span", { class: "count" }, n))));
    }
  }

  function renderQueue(tickets) {
    const q = state.queue;
    // A live refresh that changed nothing leaves the rows (and a pointer on one of them) alone.
    const key = JSON.stringify([q, state.pageUrl, state.total, state.nextUrl, tickets.map((t) => [t.ref, t.state, t.version, t.assignee])]);
    if (key === state.queueKey && Date.now() - state.queueAt < 60000) return;
    state.queueKey = key;
    state.queueAt = Date.now();
    $("queue-title").textContent = (q.st ? stateWords(q.st) : VIEWS[q.view].label) + (q.q ? " matching “" + q.q + "”" : "");
    if ($("search") !== document.activeElement) $("search").value = q.q;
    const onFirst = state.pageUrl === state.firstUrl;
    const n = tickets.length;
    $("queue-total").textContent = isFinite(state.total)
      ? (n ? "showing " + n + " of " + state.total : "none of " + state.total) + (onFirst ? "" : " (a later page)")
      : n + " ticket" + (n === 1 ? "" : "s");
    const body = $("queue");
    clear(body);
    for (const t of tickets) {
      const left = timeLeft(t.due_at);
      body.append(el("tr", { class: state.ticket && state.ticket.ref === t.ref ? "current" : "" },
        el("th", { scope: "row", "data-label": "Ticket" },
          el("a", { href: "/tickets/" + encodeURIComponent(t.ref), dataset: { ref: t.ref }, onclick: linkClick }, t.ref)),
        el("td", { "data-label": "State" }, stateWords(t.state)),
        el("td", { "data-label": "Requester" }, t.requester_role || "—"),
        el("td", { "data-label": "Phone" }, last4(t.phone)),
        el("td", { "data-label": "Age" }, age(t.submitted_at)),
        el("td", { "data-label": "Time left", class: left === "overdue" ? "overdue" : "" }, left || "—"),
        el("td", { "data-label": "Assignee" }, t.assignee || "nobody")));
    }
    if (!n) body.append(el("tr", {}, el("td", { colspan: "7", class: "muted" }, "Nothing here.")));
    $("next-page").hidden = !state.nextUrl;
    $("first-page").hidden = onFirst;
  }

  // ---- one ticket -------------------------------------------------------------------------
  // Opens (or, live, re-reads) a ticket. `keep`: an event form being filled in stays as it is.
  async function openTicket(ref, keepMessage, focus, keep) {
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
    for (const tr of $("queue").rows) tr.classList.toggle("current", !!tr.querySelector(`a[data-ref="${CSS.escape(ref)}"]`));
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
      case "create": case "submit": case "received": case "import": return who + " opened the ticket.";
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

  // ---- live updates (SPEC §14 stream) -------------------------------------------------------
  function startStream() {
    if (state.stream || typeof EventSource !== "function") return;
    const es = new EventSource("/api/v1/stream", { withCredentials: true });
    state.stream = es;
    es.addEventListener("entry", (msg) => {
      if (!state.me) return;
      let e;
      try { e = JSON.parse(msg.data); } catch (_) { return; }
      const t = state.ticket;
      if (t && e.ref === t.ref && Number(e.version) > Number(t.version)) {
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
      clearTimeout(state.refreshTimer);
      state.refreshTimer = setTimeout(() => { if (state.me && state.queue) loadQueue(state.pageUrl); }, 500);
    });
    es.addEventListener("error", () => {
      if (!state.me) { es.close(); if (state.stream === es) state.stream = null; }
    });
  }

  // ---- operators and auditors (SPEC §15) ----------------------------------------------------
  // /import (role operator): a dry run, its rejects, then the import; the sweep with a preview; stats.
  // /audit (role auditor): verify, the newest checkpoint, export, replay, history with hashes, access log.
  const TOOLS = { import: "operator", audit: "auditor" };

  function showSection(page) {
    $("desk").hidden = !!page;
    $("import-panel").hidden = page !== "import";
    $("audit-panel").hidden = page !== "audit";
    for (const [id, p] of [["nav-queue", null], ["nav-import", "import"], ["nav-audit", "audit"]]) {
      if (p === page) $(id).setAttribute("aria-current", "page");
      else $(id).removeAttribute("aria-current");
    }
  }

  function toolMessage(id, text, kind) {
    const m = $(id);
    clear(m);
    m.classList.toggle("ok", kind === "ok");
    m.classList.toggle("info", kind === "info");
    if (text) m.append(text);
  }

  // Saves a blob as a file, through a short-lived object URL.
  function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: name, hidden: "" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // GETs a file with the session cookie and saves it; answers [ok, text to show].
  async function download(path, name) {
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

  const today = () => new Date().toISOString().slice(0, 10);
  // A datetime-local value (the reader's local time) as an ISO instant, or "" when empty.
  function localToIso(v) {
    if (!v) return "";
    const d = new Date(v);
    return isNaN(d) ? "" : d.toISOString();
  }

  // Asks a yes/no question in the page's dialog; answers true for yes.
  function ask(title, text, yes) {
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

  // ---- import ----
  function importFormat(file) {
    const f = $("import-format").value;
    if (f !== "auto") return f;
    return /\.(jsonl|ndjson|json)$/i.test(file.name) ? "jsonl" : "csv";
  }
  function importKey() {
    const file = $("import-file").files[0];
    return file ? [file.name, file.size, file.lastModified, importFormat(file), $("import-triage").checked].join("|") : null;
  }
  function importChanged() {
    $("import-run").disabled = !state.checkedKey || state.checkedKey !== importKey();
  }

  async function postImport(dryRun) {
    const file = $("import-file").files[0];
    if (!file) { toolMessage("import-message", "Choose a file first."); $("import-file").focus(); return; }
    const format = importFormat(file);
    const key = importKey();
    const p = new URLSearchParams();
    if (dryRun) p.set("dry_run", "true");
    if ($("import-triage").checked) p.set("triage", "true");
    const button = $(dryRun ? "import-check" : "import-run");
    button.disabled = true;
    toolMessage("import-message", (dryRun ? "Checking " : "Importing ") + file.name + "…", "info");
    let res, data;
    try {
      res = await fetch("/api/v1/import" + (p.toString() ? "?" + p.toString() : ""), {
        method: "POST", body: file, cache: "no-store", credentials: "same-origin",
        headers: { "X-Requested-With": "tfadesk", "Content-Type": format === "jsonl" ? "application/x-ndjson" : "text/csv" },
      });
      data = await res.json().catch(() => null);
    } catch (e) {
      toolMessage("import-message", "The file could not be sent: " + e.message);
      return;
    } finally {
      button.disabled = false;
      if (!dryRun) $("import-run").disabled = true;
    }
    if (res.status === 401 && state.me) { signedOut("Your session has ended; sign in again."); return; }
    if (res.status !== 200 || !data || typeof data !== "object") {
      state.checkedKey = null;
      importChanged();
      toolMessage("import-message", (dryRun ? "Dry run" : "Import") + " refused: " +
        (data && data.error ? data.error + (data.code ? " [" + data.code + "]" : "") : "HTTP " + res.status));
      return;
    }
    renderImport(data, dryRun, file.name);
    if (dryRun) {
      state.checkedKey = key;
      toolMessage("import-message", "Dry run of " + file.name + ": nothing was written. " + data.imported + " importable, " +
        data.duplicates + " duplicate(s), " + data.rejected + " rejected.", "ok");
    } else {
      state.checkedKey = null;
      toolMessage("import-message", "Imported from " + file.name + ": " + data.imported + " ticket(s); " +
        data.duplicates + " duplicate(s) and " + data.rejected + " rejected row(s) left out.", "ok");
      loadStats();
    }
    importChanged();
  }

  function csvCell(v) {
    const s = String(v === undefined || v === null ? "" : v);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function renderImport(data, dryRun, name) {
    $("import-result").hidden = false;
    $("import-result-h").textContent = (dryRun ? "Dry run of " : "Imported from ") + name;
    $("import-imported").textContent = data.imported;
    $("import-duplicates").textContent = data.duplicates;
    $("import-rejected").textContent = data.rejected;
    const errors = Array.isArray(data.errors) ? data.errors : [];
    const tbody = $("import-rejects").tBodies[0];
    clear(tbody);
    for (const e of errors) tbody.append(el("tr", { dataset: { line: e.line } }, el("td", {}, e.line), el("td", {}, e.error)));
    $("import-rejects-box").hidden = !errors.length;
    $("import-rejects-more").textContent = data.errors_omitted ? data.errors_omitted + " more rejected row(s) are not listed." : "";
    if (state.rejectsUrl) URL.revokeObjectURL(state.rejectsUrl);
    state.rejectsUrl = null;
    if (errors.length) {
      const csv = "line,error\r\n" + errors.map((e) => csvCell(e.line) + "," + csvCell(e.error)).join("\r\n") + "\r\n";
      state.rejectsUrl = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      $("import-rejects-download").href = state.rejectsUrl;
      $("import-rejects-download").download = name.replace(/\.[^.]*$/, "") + "-rejects.csv";
    }
  }

  // ---- sweep ----
  async function sweepPreview() {
    const res = await api("GET", "/api/v1/tickets?overdue=true&sort=due_at&limit=200");
    const list = $("sweep-list");
    clear(list);
    if (res.status !== 200) { $("sweep-status").textContent = "Could not list overdue tickets: " + errorText(res); return; }
    state.sweepCount = res.data.length;
    const more = Number(res.headers.get("X-Total-Count"));
    for (const t of res.data) {
      list.append(el("li", {}, el("a", { href: "/tickets/" + encodeURIComponent(t.ref), dataset: { ref: t.ref }, onclick: linkClick },
        el("span", {}, t.ref), el("span", { class: "st" }, "waiting since " + when(t.updated_at) + ", due " + when(t.due_at)))));
    }
    $("sweep-status").textContent = res.data.length
      ? (isFinite(more) && more > res.data.length ? more : res.data.length) + " ticket(s) would expire now."
      : "No ticket would expire now.";
    $("sweep-run").disabled = !res.data.length;
  }

  async function sweepRun() {
    if (!(await ask("Expire the overdue tickets?", (state.sweepCount || 0) + " ticket(s) waiting for the requester past the SLA " +
      "will be expired; an expired ticket accepts no further event. This cannot be undone.", "Yes: expire them"))) {
      $("sweep-status").textContent = "Nothing was expired: the sweep was not confirmed.";
      $("sweep-run").focus();
      return;
    }
    $("sweep-run").disabled = true;
    const res = await api("POST", "/api/v1/sweep", {});
    if (res.status !== 200) { $("sweep-status").textContent = "Sweep refused: " + errorText(res); return; }
    const expired = Array.isArray(res.data.expired) ? res.data.expired : [];
    clear($("sweep-list"));
    $("sweep-status").textContent = expired.length ? "Expired " + expired.length + ": " + expired.join(", ") + "." : "Nothing had to expire.";
    loadStats();
  }

  // ---- stats ----
  function statRows(prefix, v, out) {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      if (typeof v.ref === "string") { out.push([prefix, v.ref + (v.updated_at ? " (since " + when(v.updated_at) + ")" : "")]); return; }
      const keys = Object.keys(v);
      if (!keys.length) out.push([prefix, "—"]);
      for (const k of keys) statRows(prefix ? prefix + " · " + k.replace(/_/g, " ") : k.replace(/_/g, " "), v[k], out);
    } else if (/_ms$/.test(prefix) && typeof v === "number") {
      out.push([prefix.replace(/ ms$/, ""), span(v)]);
    } else {
      out.push([prefix, v === null || v === undefined ? "—" : Array.isArray(v) ? v.join(", ") : v]);
    }
  }

  async function loadStats() {
    const res = await api("GET", "/api/v1/stats");
    const tbody = $("stats").tBodies[0];
    clear(tbody);
    if (res.status !== 200) { tbody.append(el("tr", {}, el("td", { colspan: "2" }, "Stats unavailable: " + errorText(res)))); return; }
    const rows = [];
    statRows("", res.data, rows);
    for (const [k, v] of rows) tbody.append(el("tr", { dataset: { stat: k } }, el("th", { scope: "row" }, k), el("td", {}, v)));
  }

  // ---- audit ----
  async function verifyRun() {
    $("verify-run").disabled = true;
    const res = await api("GET", "/api/v1/verify");
    $("verify-run").disabled = false;
    const box = $("verify-result");
    box.hidden = false;
    const probs = $("verify-problems");
    clear(probs);
    if (res.status !== 200 || !res.data || typeof res.data !== "object") {
      $("verify-ok").textContent = "Could not verify: " + errorText(res);
      $("verify-ok").className = "bad-text";
      return;
    }
    const v = res.data;
    $("verify-ok").textContent = v.ok ? "OK: the log verifies." : "PROBLEMS: the log does not verify.";
    $("verify-ok").className = v.ok ? "ok-text" : "bad-text";
    $("verify-entries").textContent = v.entries;
    $("verify-tickets").textContent = v.tickets;
    $("verify-accounts").textContent = v.accounts === undefined ? "—" : v.accounts;
    $("verify-head").textContent = v.head || "—";
    for (const p of Array.isArray(v.problems) ? v.problems : []) {
      probs.append(el("li", {}, typeof p === "object" ? Object.entries(p).map(([a, b]) => a + ": " + b).join("; ") : p));
    }
  }

  async function checkpointDownload() {
    const [, text] = await download("/api/v1/checkpoint", "checkpoint-" + today() + ".note");
    $("checkpoint-status").textContent = text;
  }

  async function exportDownload(format) {
    $("export-status").textContent = "Exporting " + format.toUpperCase() + "…";
    const [, text] = await download("/api/v1/export?format=" + format, "tfadesk-log-" + today() + "." + format);
    $("export-status").textContent = text;
  }

  async function replayRun(ev) {
    ev.preventDefault();
    const ref = $("replay-ref").value.trim();
    const at = localToIso($("replay-at").value);
    const dl = $("replay-fields");
    clear(dl);
    if (!ref) { $("replay-status").textContent = "Give a ticket ref."; return; }
    const res = await api("GET", "/api/v1/tickets/" + encodeURIComponent(ref) + "/replay" + (at ? "?as_of=" + encodeURIComponent(at) : ""));
    if (res.status !== 200) { $("replay-status").textContent = "Could not replay " + ref + ": " + errorText(res); return; }
    const t = res.data;
    $("replay-status").textContent = "Ticket " + t.ref + " as it stood " + (at ? "at " + when(at) : "now") + ", rebuilt from its log.";
    dl.append(el("dt", {}, "State"), el("dd", { id: "replay-state" }, stateWords(t.state) + " (" + t.state + ")"),
      el("dt", {}, "Version"), el("dd", {}, t.version));
    for (const k of FIELD_ORDER) {
      if (t[k] === undefined || t[k] === null || t[k] === "") continue;
      dl.append(el("dt", {}, FIELD_WORDS[k] || k), el("dd", {}, /_at$/.test(k) ? when(t[k]) : t[k]));
    }
    dl.append(el("dt", {}, "Assignee"), el("dd", {}, t.assignee || "nobody"),
      el("dt", {}, "Checks passed"), el("dd", {}, Object.keys(t.checks || {}).map((c) => c + " by " + t.checks[c]).join(", ") || "none"));
  }

  // The ticket's entries with their log seq and hash: the history, matched to the export's hashes.
  async function auditHistory() {
    const ref = $("replay-ref").value.trim();
    const table = $("audit-history");
    const tbody = table.tBodies[0];
    clear(tbody);
    if (!ref) { $("replay-status").textContent = "Give a ticket ref."; $("replay-ref").focus(); return; }
    const [res, exp] = await Promise.all([
      api("GET", "/api/v1/tickets/" + encodeURIComponent(ref) + "/history"),
      fetch("/api/v1/export?format=jsonl", { cache: "no-store", credentials: "same-origin", headers: { "X-Requested-With": "tfadesk" } })
        .then((r) => (r.ok ? r.text() : "")).catch(() => ""),
    ]);
    if (res.status !== 200) { table.hidden = true; $("replay-status").textContent = "No history for " + ref + ": " + errorText(res); return; }
    const hashes = new Map();
    for (const line of exp.split("\n")) {
      if (!line.trim()) continue;
      try { const e = JSON.parse(line); if (e.ref === ref) hashes.set(Number(e.seq), e); } catch (_) { /* skip */ }
    }
    for (const e of res.data) {
      const x = hashes.get(Number(e.global_seq));
      const hash = x && x.hash ? x.hash : e.hash;
      tbody.append(el("tr", { dataset: { seq: e.seq } }, el("td", {}, e.seq), el("td", {}, e.global_seq === undefined ? "—" : e.global_seq),
        el("td", {}, el("time", { datetime: e.at }, when(e.at))), el("td", {}, e.event), el("td", {}, e.agent || ""),
        el("td", {}, e.state), el("td", { class: "hash", title: x && x.prev_hash ? "previous " + x.prev_hash : "" }, hash || "—")));
    }
    table.hidden = false;
    $("replay-status").textContent = res.data.length + " entr" + (res.data.length === 1 ? "y" : "ies") + " of " + ref + ".";
  }

  async function accessLog(ev) {
    if (ev) ev.preventDefault();
    const p = new URLSearchParams();
    if ($("access-ref").value.trim()) p.set("ref", $("access-ref").value.trim());
    if ($("access-agent").value.trim()) p.set("agent", $("access-agent").value.trim());
    const since = localToIso($("access-since").value);
    if (since) p.set("since", since);
    const res = await api("GET", "/api/v1/access-log" + (p.toString() ? "?" + p.toString() : ""));
    const tbody = $("access-log").tBodies[0];
    clear(tbody);
    if (res.status !== 200 || !Array.isArray(res.data)) { $("access-status").textContent = "Could not read the access log: " + errorText(res); return; }
    // The newest first.
    for (const r of res.data.slice().reverse()) {
      tbody.append(el("tr", {}, el("td", {}, el("time", { datetime: r.at }, when(r.at))), el("td", {}, r.account),
        el("td", { class: "hash" }, r.route), el("td", {}, (r.refs || []).join(", ") + (r.ref_count > (r.refs || []).length ? " (" + r.ref_count + " in all)" : "")),
        el("td", {}, r.client || "")));
    }
    $("access-status").textContent = res.data.length + " read(s).";
  }

  function clearTools() {
    state.checkedKey = null;
    $("import-form").reset();
    $("import-run").disabled = true;
    $("import-result").hidden = true;
    $("verify-result").hidden = true;
    $("audit-history").hidden = true;
    for (const id of ["import-rejects", "stats", "audit-history", "access-log"]) clear($(id).tBodies[0]);
    for (const id of ["sweep-list", "replay-fields", "verify-problems", "import-message", "audit-message"]) clear($(id));
    for (const id of ["sweep-status", "checkpoint-status", "export-status", "replay-status", "access-status"]) $(id).textContent = "";
    for (const id of ["replay-ref", "replay-at", "access-ref", "access-agent", "access-since"]) $(id).value = "";
    $("sweep-run").disabled = true;
    if (state.rejectsUrl) URL.revokeObjectURL(state.rejectsUrl);
    state.rejectsUrl = null;
  }

  // ---- wiring -----------------------------------------------------------------------------
  function typing(target) {
    const t = target && target.tagName;
    return t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || (target && target.isContentEditable);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", (ev) => { ev.preventDefault(); signIn($("token").value.trim()); });
    $("passkey-sign-in").addEventListener("click", signInWithPasskey);
    $("passkey-add").addEventListener("click", addPasskey);
    $("sign-out").addEventListener("click", () => signOut());
    $("refresh").addEventListener("click", () => loadQueue(state.pageUrl));
    $("next-page").addEventListener("click", async () => { if (state.nextUrl) { await loadQueue(state.nextUrl); $("queue-h").focus(); } });
    $("first-page").addEventListener("click", () => loadQueue(state.firstUrl));
    $("search-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const q = state.queue || { view: defaultView() };
      navigate(queueUrl(q.view, $("search").value.trim(), ""));
    });
    $("back-to-queue").addEventListener("click", linkClick);
    $("event-form").addEventListener("submit", applyEvent);
    $("event-back").addEventListener("click", () => {
      $("event-form").hidden = true; state.event = null; $("events").querySelector("button")?.focus();
    });
    $("copy-reply").addEventListener("click", copyReply);
    for (const id of ["nav-queue", "nav-import", "nav-audit"]) $(id).addEventListener("click", linkClick);
    $("import-form").addEventListener("submit", (ev) => { ev.preventDefault(); postImport(true); });
    $("import-run").addEventListener("click", () => postImport(false));
    for (const id of ["import-file", "import-format", "import-triage"]) $(id).addEventListener("change", importChanged);
    $("sweep-preview").addEventListener("click", sweepPreview);
    $("sweep-run").addEventListener("click", sweepRun);
    $("stats-refresh").addEventListener("click", loadStats);
    $("verify-run").addEventListener("click", verifyRun);
    $("checkpoint-download").addEventListener("click", checkpointDownload);
    $("export-jsonl").addEventListener("click", () => exportDownload("jsonl"));
    $("export-csv").addEventListener("click", () => exportDownload("csv"));
    $("replay-form").addEventListener("submit", replayRun);
    $("audit-history-go").addEventListener("click", auditHistory);
    $("access-form").addEventListener("submit", accessLog);
    $("shortcuts-open").addEventListener("click", () => $("shortcuts").showModal());
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !$("event-form").hidden && !document.querySelector("dialog[open]")) { $("event-back").click(); return; }
      if (!state.me || typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey || document.querySelector("dialog[open]")) return;
      if (ev.key === "/") { ev.preventDefault(); $("search").focus(); $("search").select(); }
      else if (ev.key === "?") { ev.preventDefault(); $("shortcuts").showModal(); }
    });
    window.addEventListener("popstate", () => { if (state.me) route(false); });
    resume();
  });
})();
