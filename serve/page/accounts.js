// The admin's screen at /accounts (SPEC §15, role admin; SPEC §7, §13): the accounts with their
// roles and state; one account at /accounts?name=NAME with grant and revoke, disable (confirmed)
// and enable, a new token (confirmed), its passkeys and keys, and its history in sentences; add
// an account; the desk's "require signed decisions" switch. A token the desk issues is in the
// answer once: it is shown once, in the box at the top, until hidden, the screen is left or the
// admin signs out, and never kept anywhere else.
//
// What the API does not say, the page works out from the accounts' histories (GET
// /api/v1/accounts/NAME/history, one request per account when the screen opens):
// - an account's passkeys and personal keys: its passkey-add and key-add changes less its
//   passkey-remove and key-remove ones (the credential ids are not in the history);
// - whether the desk requires signed decisions: the desk refuses a switch to the state it is in
//   already, so the require-signatures changes of the log alternate on, off, on... from off, and
//   an odd number of them means on. A refusal of the switch names the state (and corrects it).
import { $, api, ask, clear, copyText, el, errorText, hasRole, linkClick, RULE_WORDS, state, toolMessage, when }
  from "/core.js";

// SPEC §7's roles, with what each may do.
const ROLES = [
  ["agent", "open tickets and apply every event but approve"],
  ["approver", "approve (four eyes still apply to their own checks)"],
  ["operator", "import and sweep"],
  ["auditor", "export the whole log, personal data included"],
  ["admin", "manage the accounts"],
];

const accountUrl = (name) => "/accounts?name=" + encodeURIComponent(name);

// The answer of a refused or failed change, in words (the rule's meaning where there is one).
function refusalText(res, what) {
  const e = res.data && typeof res.data === "object" ? res.data : null;
  if (e && e.code === "refused" && e.rule && RULE_WORDS[e.rule]) {
    return what + " refused by " + e.rule + " (" + RULE_WORDS[e.rule] + "): " + e.error;
  }
  return what + " refused: " + errorText(res);
}

function message(text, kind) { toolMessage("accounts-message", text, kind); }

// ---- reading --------------------------------------------------------------------------------
// The accounts and every account's history; then the table, the chosen account and the switch.
async function loadAccounts() {
  const gen = state.gen;
  const res = await api("GET", "/api/v1/accounts");
  if (gen !== state.gen || !state.me) return;
  if (res.status !== 200 || !Array.isArray(res.data)) { message("Could not read the accounts: " + errorText(res)); return; }
  const histories = await Promise.all(res.data.map((a) =>
    api("GET", "/api/v1/accounts/" + encodeURIComponent(a.name) + "/history").then((h) => [a.name, h])));
  if (gen !== state.gen || !state.me) return;
  state.accounts = res.data;
  state.accountHistories = new Map();
  for (const [name, h] of histories) state.accountHistories.set(name, h.status === 200 && Array.isArray(h.data) ? h.data : null);
  state.accountsSeq = Math.max(0, ...[...state.accountHistories.values()].flat().map((e) => Number(e && e.seq) || 0));
  state.signatureSwitches = signatureSwitches(state.accountHistories);
  state.requireSignatures = state.signatureSwitches.size % 2 === 1;
  renderTable();
  renderDetail();
  renderSignatures();
}

// seq -> true (turned on) or false (turned off), for every require-signatures change of the log.
function signatureSwitches(histories) {
  const seqs = [];
  for (const entries of histories.values()) {
    for (const e of entries || []) if (e.change === "require-signatures") seqs.push(Number(e.seq));
  }
  seqs.sort((a, b) => a - b);
  return new Map(seqs.map((seq, i) => [seq, i % 2 === 0]));
}

// Passkeys and personal keys an account holds now, with when each passkey was registered.
function keysOf(entries) {
  const out = { passkeys: [], keys: 0 };
  for (const e of entries || []) {
    if (e.change === "passkey-add") out.passkeys.push(e.at);
    else if (e.change === "passkey-remove") out.passkeys.shift();
    else if (e.change === "key-add") out.keys++;
    else if (e.change === "key-remove") out.keys = Math.max(0, out.keys - 1);
  }
  return out;
}

function chosen() {
  const name = new URL(location.href).searchParams.get("name");
  return name && state.accounts ? state.accounts.find((a) => a.name === name) || null : null;
}

// ---- the list -------------------------------------------------------------------------------
function renderTable() {
  const tbody = $("accounts-table").tBodies[0];
  clear(tbody);
  const current = chosen();
  for (const a of state.accounts || []) {
    const entries = state.accountHistories.get(a.name);  // null: its history could not be read
    const link = el("a", { href: accountUrl(a.name), dataset: { account: a.name }, onclick: linkClick }, a.name);
    if (current && current.name === a.name) link.setAttribute("aria-current", "true");
    tbody.append(el("tr", { class: a.enabled ? "" : "disabled", dataset: { account: a.name } },
      el("th", { scope: "row", "data-label": "Account" }, link, a.name === state.me.name ? el("span", { class: "muted" }, " (you)") : null),
      el("td", { "data-label": "Roles" }, a.roles.join(", ")),
      el("td", { "data-label": "State" }, a.enabled ? "enabled" : "disabled"),
      el("td", { "data-label": "Passkeys" }, entries ? String(keysOf(entries).passkeys.length) : "?"),
      el("td", { "data-label": "Last change" }, el("time", { datetime: a.updated_at }, when(a.updated_at)))));
  }
  $("accounts-count").textContent = (state.accounts || []).length + " account(s), " +
    (state.accounts || []).filter((a) => !a.enabled).length + " disabled.";
}

// ---- one account ----------------------------------------------------------------------------
function renderDetail() {
  const a = chosen();
  const box = $("account-detail");
  box.hidden = !a;
  if (!a) return;
  const entries = state.accountHistories.get(a.name);
  $("account-name").textContent = a.name;
  $("account-summary").textContent = (a.enabled ? "Enabled" : "Disabled: its token does not work and it cannot sign in") +
    ". Added " + when(a.created_at) + (entries && entries[0] ? " by " + entries[0].by : "") + "; last change " + when(a.updated_at) + ".";
  $("account-self").hidden = a.name !== state.me.name;
  // One line per role: held or not, and the button that changes it.
  const roles = $("account-roles");
  clear(roles);
  for (const [role, words] of ROLES) {
    const held = a.roles.includes(role);
    roles.append(el("li", { dataset: { role } },
      el("span", { class: "role-name" }, el("strong", {}, role), " — " + words + ": ",
        el("span", { class: held ? "ok-text" : "muted" }, held ? "held" : "not held")),
      el("button", { type: "button", class: "secondary small", dataset: held ? { revoke: role } : { grant: role },
        onclick: () => changeRole(a.name, role, !held) }, (held ? "Revoke " : "Grant ") + role)));
  }
  $("account-disable").hidden = !a.enabled;
  $("account-enable").hidden = a.enabled;
  // Passkeys and keys, as its history gives them.
  const keys = keysOf(entries);
  const list = $("account-passkeys");
  clear(list);
  for (const at of keys.passkeys) list.append(el("li", {}, "A passkey registered " + when(at)));
  $("account-keys").textContent = entries === null ? "Its history could not be read, so its passkeys are not known."
    : (keys.passkeys.length ? keys.passkeys.length + " passkey(s)" : "No passkey: " + a.name + " signs in with a token and signs no decision in the page") +
      "; " + (keys.keys ? keys.keys + " personal key(s) (command line)." : "no personal key.");
  // Its history, in sentences.
  const tbody = $("account-history").tBodies[0];
  clear(tbody);
  let before = null;
  for (const e of entries || []) {
    tbody.append(historyRow(e, before));
    before = e;
  }
  if (!entries) tbody.append(el("tr", {}, el("td", { colspan: "2" }, "The history could not be read.")));
}

function historyRow(e, before) {
  const roles = Array.isArray(e.roles) ? e.roles : [];
  const prev = before && Array.isArray(before.roles) ? before.roles : [];
  const who = e.by || "someone";
  let text;
  switch (e.change) {
    case "add": text = who + " added the account with the role" + (roles.length === 1 ? " " : "s ") + roles.join(", ") + "."; break;
    case "grant": text = who + " granted " + (roles.filter((r) => !prev.includes(r)).join(", ") || "a role") + "."; break;
    case "revoke": text = who + " revoked " + (prev.filter((r) => !roles.includes(r)).join(", ") || "a role") + "."; break;
    case "disable": text = who + " disabled the account: its token stopped working and its sessions ended."; break;
    case "enable": text = who + " enabled the account again."; break;
    case "token": text = who + " issued a new token; the one before stopped working."; break;
    case "passkey-add": text = who + " registered a passkey."; break;
    case "passkey-remove": text = who + " removed a passkey."; break;
    case "key-add": text = who + " registered a personal key."; break;
    case "key-remove": text = who + " retired a personal key."; break;
    case "require-signatures": {
      const on = state.signatureSwitches.get(Number(e.seq));
      text = who + (on ? " required signed decisions on the whole desk." : " stopped requiring signed decisions on the desk.");
      break;
    }
    default: text = who + " made the change " + e.change + ".";
  }
  const what = el("td", { class: "what" }, el("span", { class: "sentence" }, text));
  if (e.change === "grant" || e.change === "revoke" || e.change === "add") what.append(el("span", { class: "muted" }, " Roles: " + roles.join(", ") + "."));
  return el("tr", { dataset: { change: e.change } },
    el("td", { class: "when" }, el("time", { datetime: e.at }, when(e.at)), el("span", { class: "muted seq" }, "#" + e.seq)), what);
}

// ---- changes --------------------------------------------------------------------------------
// Posts one change; on success says `done` and reads everything again; answers the desk's answer.
async function change(path, body, what, done) {
  const res = await api("POST", path, body);
  if (res.status !== 200 && res.status !== 201) {
    message(refusalText(res, what));
    return null;
  }
  message(done, "ok");
  await loadAccounts();
  return res;
}

async function changeRole(name, role, grant) {
  await change("/api/v1/accounts/" + encodeURIComponent(name) + "/roles", grant ? { grant: role } : { revoke: role },
    (grant ? "Granting " : "Revoking ") + role, (grant ? "Granted " + role + " to " : "Revoked " + role + " from ") + name + ".");
  $("account-h").focus();
}

async function setEnabled(enabled) {
  const a = chosen();
  if (!a) return;
  if (!enabled && !(await ask("Disable " + a.name + "?", "Their token stops working and their sessions end at once. " +
    "Everything they did stays in the log under their name, and an admin can enable the account again.", "Yes: disable " + a.name))) {
    message("Nothing was changed: disabling " + a.name + " was not confirmed.", "info");
    $("account-disable").focus();
    return;
  }
  await change("/api/v1/accounts/" + encodeURIComponent(a.name) + "/enabled", { enabled },
    (enabled ? "Enabling " : "Disabling ") + a.name, (enabled ? "Enabled " : "Disabled ") + a.name + ".");
  $("account-h").focus();
}

async function rotateToken() {
  const a = chosen();
  if (!a) return;
  if (!(await ask("Issue a new token for " + a.name + "?", "The token " + a.name + " holds now stops working at once. " +
    "The new one is shown here once; hand it over on a channel you trust.", "Yes: issue a new token"))) {
    message("Nothing was changed: no new token was issued.", "info");
    $("account-token").focus();
    return;
  }
  const res = await change("/api/v1/accounts/" + encodeURIComponent(a.name) + "/token", {},
    "A new token for " + a.name, "A new token for " + a.name + " was issued; the old one no longer works.");
  if (res) showToken(a.name, res.data.token);
}

async function addAccount(ev) {
  ev.preventDefault();
  const name = $("new-account-name").value.trim();
  const roles = ROLES.map(([r]) => r).filter((r) => $("new-role-" + r).checked);
  if (!name) { message("Give the new account a name."); $("new-account-name").focus(); return; }
  if (!roles.length) { message("Give the new account at least one role."); $("new-role-agent").focus(); return; }
  $("account-add").disabled = true;
  try {
    const res = await change("/api/v1/accounts", { name, roles }, "Adding " + name, "Added " + name + " with " + roles.join(", ") + ".");
    if (!res) return;
    $("account-add-form").reset();
    showToken(res.data.name, res.data.token);
  } finally {
    $("account-add").disabled = false;
  }
}

async function toggleSignatures() {
  const on = !state.requireSignatures;
  const sure = on
    ? await ask("Require signed decisions?", "From now on every decision (checks, approvals, the disable and its confirmation, " +
      "every account change) without a valid signature by a passkey or key of its agent is refused. People without a passkey " +
      "can then no longer record them, and the changes on this screen need a signature the page cannot make.", "Yes: require signatures")
    : await ask("Stop requiring signed decisions?", "Unsigned decisions are accepted again from now on. " +
      "While signatures are required, this change itself must be signed: the page cannot, so the desk may refuse it " +
      "(use tfadesk agent require-signatures off --sign-key FILE).", "Yes: stop requiring them");
  if (!sure) { message("Nothing was changed.", "info"); $("signatures-toggle").focus(); return; }
  const res = await api("POST", "/api/v1/require-signatures", { on });
  if (res.status === 200 && res.data) {
    message(res.data.require_signatures ? "Signed decisions are required from now on." : "Signed decisions are no longer required.", "ok");
    await loadAccounts();
    state.requireSignatures = !!res.data.require_signatures;
    renderSignatures();
  } else {
    // A switch to the state the desk is in already is refused, naming that state.
    const e = res.data && typeof res.data === "object" ? res.data : {};
    if (e.code === "refused" && /signatures (not )?required/.test(e.state || "")) {
      state.requireSignatures = e.state === "signatures required";
      renderSignatures();
    }
    message(refusalText(res, on ? "Requiring signatures" : "Stopping signatures"));
  }
  $("signatures-toggle").focus();
}

function renderSignatures() {
  const on = !!state.requireSignatures;
  $("signatures-state").textContent = on
    ? "This desk requires signed decisions: an unsigned check, approval, disable or account change is refused."
    : "This desk does not require signed decisions: unsigned ones are accepted (signed ones are still checked).";
  $("signatures-state").dataset.on = String(on);
  $("signatures-toggle").textContent = on ? "Stop requiring signed decisions" : "Require signed decisions";
  $("signatures-toggle").classList.toggle("danger", !on);
  $("signatures-toggle").classList.toggle("secondary", on);
  $("accounts-signed-note").hidden = !on;
}

// ---- the token, shown once ------------------------------------------------------------------
function showToken(name, token) {
  $("token-for").textContent = name;
  $("token-value").value = token || "";
  $("token-status").textContent = "";
  $("token-box").hidden = false;
  $("token-h").focus();
}

function hideToken() {
  $("token-value").value = "";
  $("token-for").textContent = "";
  $("token-status").textContent = "";
  $("token-box").hidden = true;
}

export const accountsScreen = {
  path: "accounts",
  role: "admin",
  // entered: the screen was not showing before (read everything); else another account was chosen.
  async open(entered) {
    if (entered || !state.accounts) await loadAccounts();
    else { renderTable(); renderDetail(); }
    if (!entered && chosen()) $("account-h").focus();
  },
  // Leaving the screen: the token shown once goes.
  leave() { hideToken(); },
  // An account change arrived on the stream: read again, unless the screen has it already (its own).
  live(e) {
    if (!String(e.ref || "").startsWith("account:") || !hasRole("admin")) return;
    clearTimeout(state.accountsTimer);
    state.accountsTimer = setTimeout(() => {
      if (!$("accounts-panel").hidden && state.accounts && Number(e.seq) > state.accountsSeq) loadAccounts();
    }, 300);
  },
  clear() {
    hideToken();
    clearTimeout(state.accountsTimer);
    state.accounts = state.accountHistories = state.signatureSwitches = null;
    state.requireSignatures = false;
    for (const id of ["accounts-table", "account-history"]) clear($(id).tBodies[0]);
    for (const id of ["account-roles", "account-passkeys", "accounts-message"]) clear($(id));
    for (const id of ["accounts-count", "account-name", "account-summary", "account-keys", "signatures-state"]) $(id).textContent = "";
    $("account-add-form").reset();
    $("account-detail").hidden = true;
  },
  wire() {
    // The add form's roles, one checkbox each, from the same list as the account's role lines.
    for (const [role, words] of ROLES) {
      $("new-account-roles").append(el("div", { class: "check-row" },
        el("input", { id: "new-role-" + role, type: "checkbox", value: role }),
        el("label", { for: "new-role-" + role }, el("strong", {}, role), ": " + words)));
    }
    $("new-role-agent").defaultChecked = true;
    $("new-role-agent").checked = true;
    $("account-add-form").addEventListener("submit", addAccount);
    $("account-disable").addEventListener("click", () => setEnabled(false));
    $("account-enable").addEventListener("click", () => setEnabled(true));
    $("account-token").addEventListener("click", rotateToken);
    $("signatures-toggle").addEventListener("click", toggleSignatures);
    $("token-copy").addEventListener("click", async () => {
      $("token-status").textContent = await copyText($("token-value").value, $("token-value"));
    });
    $("token-hide").addEventListener("click", () => { hideToken(); $("accounts-h").focus(); });
    $("accounts-refresh").addEventListener("click", loadAccounts);
  },
};
