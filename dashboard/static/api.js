// api.js: the API key and requests to the REST API.
//
// The key lives in sessionStorage only: it dies with the tab, is never shared
// with other tabs or later visits (local storage would be), and never goes into
// a URL, where proxies and history would keep it.

const KEY_NAME = "ivslive.apiKey";

/** Returns the key kept for this tab, or "". */
export function loadKey() {
  try {
    return sessionStorage.getItem(KEY_NAME) || "";
  } catch {
    return ""; // storage disabled: the user signs in on every load
  }
}

export function saveKey(key) {
  try {
    sessionStorage.setItem(KEY_NAME, key);
  } catch {
    // Storage disabled: the key stays in memory for this page only.
  }
}

export function clearKey() {
  try {
    sessionStorage.removeItem(KEY_NAME);
  } catch {
    // Nothing was stored.
  }
}

/**
 * Resolves a server path against the page's parent: the page lives at
 * <root>/dashboard/, so relative URLs keep working behind a proxy that mounts
 * the whole server under a prefix.
 */
export function serverURL(path) {
  return new URL("../" + path.replace(/^\/+/, ""), document.baseURI);
}

/** Returns the /ws URL, ws: or wss: following the page's scheme. */
export function socketURL() {
  const u = serverURL("ws");
  u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}

/** ApiError is a refused or failed request; status 0 means no answer. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }

  /** True when the key itself is the problem: wrong (401) or lacking scope (403). */
  get keyRefused() {
    return this.status === 401 || this.status === 403;
  }
}

/** Fetches a route and returns the envelope's data, or throws ApiError. */
export async function getJSON(path, key, signal) {
  let res;
  try {
    res = await fetch(serverURL(path), {
      headers: { "x-api-key": key, accept: "application/json" },
      cache: "no-store",
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK", "cannot reach the server");
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON: a proxy's error page. The status says enough.
  }
  if (res.ok && body && body.success !== false) return body.data;
  const e = (body && body.error) || {};
  throw new ApiError(res.status, e.code || "HTTP_" + res.status, e.message || res.statusText || "request failed");
}
