// The auditor's screen at /audit (SPEC §15, role auditor): verify with its problems, the newest
// checkpoint to download, the exports, a ticket replayed as of a time, its history with each
// entry's seq and hash, and the access log.
import { $, api, clear, download, el, errorText, FIELD_ORDER, FIELD_WORDS, localToIso, stateWords, today, when } from "/core.js";

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

export const auditScreen = {
  path: "audit",
  role: "auditor",
  open() {},
  clear() {
    $("verify-result").hidden = true;
    $("audit-history").hidden = true;
    for (const id of ["audit-history", "access-log"]) clear($(id).tBodies[0]);
    for (const id of ["replay-fields", "verify-problems", "audit-message"]) clear($(id));
    for (const id of ["checkpoint-status", "export-status", "replay-status", "access-status"]) $(id).textContent = "";
    for (const id of ["replay-ref", "replay-at", "access-ref", "access-agent", "access-since"]) $(id).value = "";
  },
  wire() {
    $("verify-run").addEventListener("click", verifyRun);
    $("checkpoint-download").addEventListener("click", checkpointDownload);
    $("export-jsonl").addEventListener("click", () => exportDownload("jsonl"));
    $("export-csv").addEventListener("click", () => exportDownload("csv"));
    $("replay-form").addEventListener("submit", replayRun);
    $("audit-history-go").addEventListener("click", auditHistory);
    $("access-form").addEventListener("submit", accessLog);
  },
};
