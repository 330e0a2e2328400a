// Passkeys (SPEC §13): sign-in with one, the account's passkeys in the header, and decisions
// signed with one. Options and credentials travel as JSON with base64url binary fields: the
// browser parses the server's options and serialises its answer with toJSON().
import { $, api, errorText, shell, state } from "/core.js";

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

export async function signInWithPasskey() {
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
    await shell.enter(res.data);
  } finally {
    button.disabled = false;
  }
}

export function passkeyStatus(text, kind) {
  const s = $("passkey-status");
  s.textContent = text || "";
  s.classList.toggle("error", kind === "error");
  s.classList.toggle("ok", kind === "ok");
}

export function renderPasskeys() {
  const n = state.passkeys ? state.passkeys.length : null;
  $("passkey-count").textContent = n === null ? "?" : String(n);
  $("passkey-count").title = n === null ? "" : n + " passkey" + (n === 1 ? "" : "s") + " registered to your account";
}

export async function loadPasskeys() {
  const res = await api("GET", "/api/v1/me/passkeys");
  if (res.status === 200 && Array.isArray(res.data)) {
    state.passkeys = res.data;
  } else {
    state.passkeys = null;
    passkeyStatus("Could not read your passkeys: " + errorText(res), "error");
  }
  renderPasskeys();
}

export async function addPasskey() {
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

export function hasPasskey() { return !!(state.passkeys && state.passkeys.length); }

// Signs the decision `body` (as it will be posted) with a passkey: the desk answers request
// options whose challenge is the SHA-256 of the decision text; the assertion goes with the event.
// Returns {assertion} or {res} (the desk's refusal) or {error} (the ceremony failed).
export async function signDecision(ref, body, headers) {
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
