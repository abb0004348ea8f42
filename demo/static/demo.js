// demo.js: what both demo pages share: the API key, calls to the API, the
// participant token's claims and the WHIP exchange (RFC 9725, without
// trickle: every candidate goes in the offer).
//
// The key lives in sessionStorage only (as on the dashboard): it dies with
// the tab and never goes into a URL.

const KEY_NAME = "ivslive.apiKey";

// A request the server's Content Security Policy blocks fails without a
// word in the page: say what was blocked.
document.addEventListener("securitypolicyviolation", (e) => {
  const status = document.getElementById("status");
  if (status) show(status, "error", `Blocked by the server's Content Security Policy (${e.effectiveDirective}): ${e.blockedURI}`);
});

/** Returns the key kept for this tab, or "". */
function loadKey() {
  try {
    return sessionStorage.getItem(KEY_NAME) || "";
  } catch {
    return ""; // storage disabled: type the key on every load
  }
}

function saveKey(key) {
  try {
    sessionStorage.setItem(KEY_NAME, key);
  } catch {
    // Storage disabled: the key stays in this page only.
  }
}

/** DemoError is a failed step; status is the HTTP status, 0 when none. */
export class DemoError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = "DemoError";
    this.status = status;
  }
}

/**
 * Resolves a server path against the page's parent: the pages live at
 * <root>/demo/, so the API is found behind a proxy that mounts the whole
 * server under a prefix too.
 */
export function serverURL(path) {
  return new URL("../" + path.replace(/^\/+/, ""), document.baseURI);
}

/**
 * POSTs JSON to an API route with the key and returns the envelope's data;
 * keepalive lets the request outlive the page.
 */
export async function api(path, key, body, keepalive = false) {
  let res;
  try {
    res = await fetch(serverURL(path), {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key, accept: "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      keepalive,
    });
  } catch {
    throw new DemoError(`${path}: cannot reach the server`);
  }
  let env = null;
  try {
    env = await res.json();
  } catch {
    // Not the API's envelope: the status says enough.
  }
  if (res.ok && env && env.success !== false) return env.data;
  const e = (env && env.error) || {};
  throw new DemoError(`${path}: ${res.status} ${e.code || res.statusText}${e.message ? ": " + e.message : ""}`, res.status);
}

/**
 * POSTs to a route with a viewer's session token (heartbeat, leave);
 * keepalive lets the request outlive the page.
 */
export function sessionCall(path, sessionToken, keepalive = false) {
  return fetch(serverURL(path), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + sessionToken },
    body: "{}",
    keepalive,
  });
}

/** Reads a JWT's claims without checking them: the page needs its whip_url. */
export function claims(token) {
  const part = String(token).split(".")[1] || "";
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  try {
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
  } catch {
    throw new DemoError("the participant token is not a JWT");
  }
}

/**
 * Checks that a WHIP URL is on this page's origin: the server's Content
 * Security Policy lets its pages connect to their own origin only.
 */
export function checkOrigin(whipURL, page) {
  const u = new URL(whipURL);
  if (u.origin !== location.origin) {
    throw new DemoError(`The stage's WHIP URL is on ${u.origin}; this page may only connect to its own origin. Open ${u.origin}/demo/${page} instead.`);
  }
}

/** Resolves when ICE gathering is complete, or after ms with what there is. */
function gathered(pc, ms = 3000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ms);
  });
}

/** Sends an offer to a WHIP (or playback) URL; returns the answer and the session's URL. */
async function whipOffer(url, token, sdp) {
  let res;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/sdp", authorization: "Bearer " + token },
      body: sdp,
      cache: "no-store",
    });
  } catch {
    throw new DemoError(`POST ${url}: no answer`);
  }
  const text = await res.text();
  if (res.status !== 201) {
    throw new DemoError(`POST ${url}: ${res.status} ${res.statusText}${text ? ": " + text.slice(0, 300) : ""}`, res.status);
  }
  const loc = res.headers.get("location");
  if (!loc) throw new DemoError(`POST ${url}: 201 without a Location header`);
  return { answer: text, location: new URL(loc, res.url).href };
}

/** Ends a WHIP session; keepalive lets the DELETE outlive the page. */
export function whipDelete(location, token, keepalive = false) {
  return fetch(location, { method: "DELETE", headers: { authorization: "Bearer " + token }, keepalive }).catch(() => {});
}

/** Shows a step: data-state for tests and styles, text for people. */
export function show(el, state, text) {
  el.dataset.state = state;
  el.textContent = text;
}

/** Shows a number both as data-value and as readable bytes. */
export function showBytes(el, n) {
  el.dataset.value = String(n);
  el.textContent = n >= 1e6 ? (n / 1e6).toFixed(1) + " MB" : (n / 1e3).toFixed(1) + " KB";
}

/** Returns the first stats report of a type and kind. */
export async function rtpStats(pc, type, kind) {
  const reports = await pc.getStats();
  for (const r of reports.values()) {
    if (r.type === type && r.kind === kind) return r;
  }
  return null;
}

/**
 * Offers pc's media to url (a WHIP URL, or the playback path) and applies
 * the answer; returns the session's URL. When ended() has become true
 * meanwhile, the new session is deleted at once and "" returned.
 */
export async function connect(pc, url, token, ended) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const { answer, location } = await whipOffer(url, token, pc.localDescription.sdp);
  if (ended()) {
    whipDelete(location, token);
    return "";
  }
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  return location;
}

/**
 * Shows pc's connection state in status, with liveText once connected;
 * onLive, when given, runs the first time it is.
 */
export function followConnection(pc, status, liveText, again, ended, onLive = () => {}) {
  let wasLive = false;
  pc.addEventListener("connectionstatechange", () => {
    if (ended()) return;
    switch (pc.connectionState) {
      case "connected":
        show(status, "live", liveText);
        if (!wasLive) onLive();
        wasLive = true;
        break;
      case "disconnected":
        show(status, "connecting", "Connection lost, trying again…");
        break;
      case "failed":
        show(status, "error", `The connection failed (ICE or DTLS). ${again}`);
        break;
    }
  });
}

/**
 * Runs a demo page's form: submitting starts a session made by
 * make(key) (an object with start(userId) and end(keepalive)); the stop
 * button and leaving the page end it. explain turns a failure into text.
 * Returns stop(state, text), which ends the session from elsewhere.
 */
export function runPage({ make, keyHint, stoppedText, explain = (err) => err.message }) {
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const startButton = $("start");
  const stopButton = $("stop");
  let current = null;
  const stop = (state, text) => {
    if (!current) return;
    current.end(false);
    current = null;
    show(status, state, text);
    startButton.disabled = false;
    stopButton.disabled = true;
  };
  $("api-key").value = loadKey();
  $("start-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (current) return;
    const key = $("api-key").value.trim();
    if (!key) {
      show(status, "error", keyHint);
      return;
    }
    saveKey(key);
    startButton.disabled = true;
    const session = make(key);
    current = session;
    try {
      await session.start($("user-id").value.trim());
      stopButton.disabled = false;
    } catch (err) {
      session.end(false);
      if (current === session) current = null;
      show(status, "error", explain(err));
      startButton.disabled = false;
    }
  });
  stopButton.addEventListener("click", () => stop("stopped", stoppedText));
  addEventListener("pagehide", () => current && current.end(true));
  return stop;
}
