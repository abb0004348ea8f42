// live.js: the /ws connection, kept up with exponential backoff.
//
// Browsers cannot set headers on a WebSocket, so the key travels as the
// subprotocol "key.<key>" next to "ivslive" (never as a query parameter, which would
// land in proxy logs). A refused handshake looks exactly like a dead server
// to the page (close code 1006 before open), so the owner is asked to tell
// them apart with a REST call.

const FIRST_DELAY = 1000;
const MAX_DELAY = 30000;
// stats_update comes at least every 5 s; this much silence means the
// connection died without a close (a sleeping laptop, a dropped NAT entry).
const SILENCE = 15000;

/**
 * LiveSocket calls its owner back with:
 *   onOpen()            connected: (re)subscribe here;
 *   onMessage(msg)      each parsed server message;
 *   onState(state, d)   "connecting" | "live" | "reconnecting" | "offline",
 *                       d = { retryAt, reason };
 *   onRefused()         closed before opening; resolves true when the key was
 *                       refused (the owner then stops this socket).
 */
export class LiveSocket {
  constructor(url, key, owner) {
    this.url = url;
    this.key = key;
    this.owner = owner;
    this.ws = null;
    this.delay = FIRST_DELAY;
    this.retryTimer = 0;
    this.stopped = false;
    this.lastMessage = 0;
    this.watchdog = setInterval(() => this.checkSilence(), SILENCE / 3);
    this.onOnline = () => this.retryNow();
    this.onOffline = () => this.drop("the browser is offline");
    addEventListener("online", this.onOnline);
    addEventListener("offline", this.onOffline);
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  start() {
    this.owner.onState("connecting", {});
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    removeEventListener("online", this.onOnline);
    removeEventListener("offline", this.onOffline);
    this.detach(1000, "signed out");
  }

  /** Sends a message if connected; subscriptions are replayed by onOpen anyway. */
  send(msg) {
    if (this.isOpen) this.ws.send(JSON.stringify(msg));
  }

  /** Skips the rest of the backoff (the "retry now" button, the network coming back). */
  retryNow() {
    if (this.stopped || this.isOpen) return;
    this.delay = FIRST_DELAY;
    this.detach(1000, "retrying");
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    if (navigator.onLine === false) {
      this.owner.onState("offline", { reason: "the browser is offline" });
      return; // the "online" event reconnects
    }
    let ws;
    try {
      ws = new WebSocket(this.url, ["ivslive", "key." + this.key]);
    } catch (err) {
      // A key with characters no subprotocol may carry (RFC 7230 tokens).
      this.owner.onState("offline", { reason: "this key cannot be sent over a WebSocket: " + err.message });
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
      this.lastMessage = Date.now();
      this.owner.onState("live", {});
      this.owner.onOpen();
    });
    ws.addEventListener("message", (ev) => {
      this.lastMessage = Date.now();
      // A connection that delivers data is healthy: only then forget the
      // backoff, so a server that accepts and at once drops us is not hammered.
      this.delay = FIRST_DELAY;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg && typeof msg.type === "string") this.owner.onMessage(msg);
    });
    ws.addEventListener("close", async (ev) => {
      if (this.ws !== ws) return; // replaced or detached meanwhile
      this.ws = null;
      if (!opened && (await this.owner.onRefused())) return;
      this.retry(ev.reason || (opened ? "connection closed (" + ev.code + ")" : "could not connect"));
    });
  }

  retry(reason) {
    if (this.stopped) return;
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    const retryAt = Date.now() + delay;
    // Once the backoff has reached its ceiling the server has been gone
    // for half a minute: say so rather than promise an imminent reconnect.
    this.owner.onState(delay >= MAX_DELAY ? "offline" : "reconnecting", { retryAt, reason });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  checkSilence() {
    if (this.isOpen && Date.now() - this.lastMessage > SILENCE) this.drop("no update for 15 s");
  }

  /** Abandons the current connection without waiting for its close handshake. */
  drop(reason) {
    if (this.stopped || !this.ws) return;
    this.detach(4000, "client gave up");
    this.retry(reason);
  }

  detach(code, reason) {
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(code, reason);
  }
}
