// The operator's screen at /import (SPEC §15, role operator): an import checked by a dry run
// first, its rejected rows with their lines and reasons and a file of them, then the import; the
// sweep with a preview of what would expire; the desk's stats.
import { $, api, ask, clear, el, errorText, linkClick, shell, span, state, toolMessage, when } from "/core.js";

// ---- import ---------------------------------------------------------------------------
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
  if (res.status === 401 && state.me) { shell.signedOut("Your session has ended; sign in again."); return; }
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

// ---- sweep ----------------------------------------------------------------------------
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


// ---- stats ----------------------------------------------------------------------------
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

export const importScreen = {
  path: "import",
  role: "operator",
  open() { loadStats(); },
  clear() {
    state.checkedKey = null;
    $("import-form").reset();
    $("import-run").disabled = true;
    $("import-result").hidden = true;
    for (const id of ["import-rejects", "stats"]) clear($(id).tBodies[0]);
    for (const id of ["sweep-list", "import-message"]) clear($(id));
    $("sweep-status").textContent = "";
    $("sweep-run").disabled = true;
    if (state.rejectsUrl) URL.revokeObjectURL(state.rejectsUrl);
    state.rejectsUrl = null;
  },
  wire() {
    $("import-form").addEventListener("submit", (ev) => { ev.preventDefault(); postImport(true); });
    $("import-run").addEventListener("click", () => postImport(false));
    for (const id of ["import-file", "import-format", "import-triage"]) $(id).addEventListener("change", importChanged);
    $("sweep-preview").addEventListener("click", sweepPreview);
    $("sweep-run").addEventListener("click", sweepRun);
    $("stats-refresh").addEventListener("click", loadStats);
  },
};
