// The queue (SPEC §15, agents and approvers): a page of tickets by due time, the views Mine,
// Unassigned, Overdue, Ready for my approval and All open with their counts, the states, search,
// and the approver's list of tickets ready for them. An approver who is not also an agent opens
// on Ready for my approval; an agent who is also an approver opens on the open tickets with that
// list above them.
import { $, age, api, clear, el, errorText, hasRole, last4, linkClick, shell, state, stateWords, timeLeft } from "/core.js";

export const VIEWS = {
  mine: { label: "Mine", count: "mine", params: { open: "true", assignee: "me" } },
  unassigned: { label: "Unassigned", count: "unassigned", params: { open: "true", assignee: "none" } },
  overdue: { label: "Overdue", count: "overdue", params: { overdue: "true" } },
  ready: { label: "Ready for my approval", count: "ready_for_me", params: { ready_for: "me" } },
  all: { label: "All open", count: "open", params: { open: "true" } },
};
const PAGE = 50;

export function defaultView() { return hasRole("approver") && !hasRole("agent") ? "ready" : "all"; }

export function queueUrl(view, q, st) {
  const p = new URLSearchParams();
  p.set("view", view);
  if (q) p.set("q", q);
  if (st) p.set("state", st);
  return "/queue?" + p.toString();
}

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
export async function loadQueue(url) {
  const gen = state.gen;
  if (url) state.pageUrl = url;
  else if (!state.firstUrl || state.firstUrl !== apiUrlFor(state.queue)) {
    state.firstUrl = apiUrlFor(state.queue);
    state.pageUrl = state.firstUrl;
  }
  const [res] = await Promise.all([api("GET", state.pageUrl), loadCounts(), loadReady()]);
  if (gen !== state.gen || !state.me) return;
  if (res.status !== 200) {
    $("queue-total").textContent = "Could not read the queue: " + errorText(res);
    return;
  }
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

// The approver's list, above the queue, unless the queue shows that view already.
async function loadReady() {
  const q = state.queue || {};
  $("approver-box").hidden = !hasRole("approver") || (q.view === "ready" && !q.st);
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
      onclick: () => shell.navigate(queueUrl(q.view, q.q, q.st === s ? "" : s)),
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

// Marks the open ticket's row.
export function markCurrent(ref) {
  for (const tr of $("queue").rows) tr.classList.toggle("current", !!tr.querySelector(`a[data-ref="${CSS.escape(ref)}"]`));
}

// Signing out: nothing of the queue stays in the page.
export function clearQueue() {
  for (const id of ["queue", "views", "states", "approver-list"]) clear($(id));
  $("queue-total").textContent = "";
  $("search").value = "";
  $("approver-box").hidden = true;
}

export function wireQueue() {
  $("refresh").addEventListener("click", () => loadQueue(state.pageUrl));
  $("next-page").addEventListener("click", async () => { if (state.nextUrl) { await loadQueue(state.nextUrl); $("queue-h").focus(); } });
  $("first-page").addEventListener("click", () => loadQueue(state.firstUrl));
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = state.queue || { view: defaultView() };
    shell.navigate(queueUrl(q.view, $("search").value.trim(), ""));
  });
}
