// The desk's page (SPEC §15), its shell: sign-in and sign-out, the header with the screens each
// role has, the URL of every view (/queue?view=…&q=…, /tickets/REF, /import, /audit,
// /accounts?name=…; back and forward work), the live stream (§14) and the keyboard. Each screen
// is a file of its own — queue.js, ticket.js, import.js (operators), audit.js (auditors),
// accounts.js (admins) — passkeys.js signs in and signs decisions, and core.js holds what they
// share. Plain JavaScript modules over the desk's JSON API (/api/v1), no framework.
import { $, api, hasRole, linkClick, shell, state } from "/core.js";
import { addPasskey, loadPasskeys, passkeyStatus, renderPasskeys, signInWithPasskey } from "/passkeys.js";
import { clearQueue, defaultView, loadQueue, queueUrl, VIEWS, wireQueue } from "/queue.js";
import { clearTicket, closeTicket, liveEntry, openTicket, wireTicket } from "/ticket.js";
import { importScreen } from "/import.js";
import { auditScreen } from "/audit.js";
import { accountsScreen } from "/accounts.js";

// The screens of one role each: at /PATH, in the panel #PATH-panel under its heading #PATH-h,
// linked in the header (#nav-PATH) for that role alone; another account asking for one gets the
// queue. Each has open(entered), clear() and wire(), and may have leave() and live(entry).
const SCREENS = [importScreen, auditScreen, accountsScreen];
const screenAt = (path) => SCREENS.find((s) => s.path === path) || null;

// ---- sign in ------------------------------------------------------------------------------
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
  for (const s of SCREENS) $("nav-" + s.path).hidden = !hasRole(s.role);
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
  state.me = state.ticket = state.passkeys = state.queue = state.counts = state.page = null;
  state.pageUrl = state.firstUrl = state.nextUrl = state.queueKey = state.actionsKey = state.readyKey = null;
  state.gen++;
  if (state.stream) { state.stream.close(); state.stream = null; }
  clearTimeout(state.refreshTimer);
  renderPasskeys();
  passkeyStatus("");
  // Nothing of what was shown stays in the page.
  clearQueue();
  clearTicket();
  for (const s of SCREENS) {
    s.clear();
    $(s.path + "-panel").hidden = true;
    $("nav-" + s.path).hidden = true;
  }
  $("who").hidden = true;
  $("desk").hidden = true;
  $("signin").hidden = false;
  $("token").value = "";
  $("signin-error").textContent = note || "";
  $("token").focus();
}

// ---- URLs and navigation ------------------------------------------------------------------
// What the address bar asks for: {view, q, st} of the queue, the open ticket's ref (or null), and
// the role's screen (or null).
function parseLocation() {
  const u = new URL(location.href);
  const m = u.pathname.match(/^\/tickets\/([^/]+)\/?$/);
  const p = u.searchParams;
  let view = p.get("view");
  if (!VIEWS[view]) view = defaultView();
  const page = u.pathname.replace(/^\/|\/$/g, "");
  return { ref: m ? decodeURIComponent(m[1]) : null, view, q: (p.get("q") || "").trim(), st: p.get("state") || "",
    page: screenAt(page) ? page : null };
}

function navigate(url, replace) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  return route(false);
}

async function route(first) {
  if (!state.me) return;
  const at = parseLocation();
  const screen = screenAt(at.page);
  if (screen && !hasRole(screen.role)) {
    // A screen of a role this account lacks: the queue instead.
    history.replaceState(null, "", queueUrl(defaultView(), ""));
    return route(first);
  }
  const before = state.page;
  if (before && before !== at.page) screenAt(before).leave?.();
  state.page = at.page;
  showSection(at.page);
  if (screen) {
    closeTicket();
    document.title = "tfadesk — " + screen.path;
    const entered = first || before !== at.page;
    if (entered && !first) $(screen.path + "-h").focus();
    await screen.open(entered);
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

function showSection(page) {
  $("desk").hidden = !!page;
  for (const s of SCREENS) $(s.path + "-panel").hidden = page !== s.path;
  for (const path of ["queue"].concat(SCREENS.map((s) => s.path))) {
    const link = $("nav-" + path);
    if ((page || "queue") === path) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
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
    liveEntry(e);
    for (const s of SCREENS) s.live?.(e);
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => { if (state.me && state.queue) loadQueue(state.pageUrl); }, 500);
  });
  es.addEventListener("error", () => {
    if (!state.me) { es.close(); if (state.stream === es) state.stream = null; }
  });
}

// ---- wiring -------------------------------------------------------------------------------
function typing(target) {
  const t = target && target.tagName;
  return t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || (target && target.isContentEditable);
}

shell.navigate = navigate;
shell.enter = enter;
shell.signedOut = signedOut;

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", (ev) => { ev.preventDefault(); signIn($("token").value.trim()); });
  $("passkey-sign-in").addEventListener("click", signInWithPasskey);
  $("passkey-add").addEventListener("click", addPasskey);
  $("sign-out").addEventListener("click", () => signOut());
  wireQueue();
  wireTicket();
  for (const s of SCREENS) s.wire();
  for (const path of ["queue"].concat(SCREENS.map((s) => s.path))) $("nav-" + path).addEventListener("click", linkClick);
  $("back-to-queue").addEventListener("click", linkClick);
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
