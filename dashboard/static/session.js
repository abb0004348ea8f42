// session.js: what one signed-in key runs. REST for the first numbers, the
// scaling state and the history; the /ws push for everything live.

import { ApiError, getJSON, socketURL } from "./api.js";
import { LiveSocket } from "./live.js";
import * as view from "./view.js";

// GET /api/stats is polled for its scaling part, which stats_update lacks.
const STATS_EVERY = 30e3;
// The history gains a snapshot bucket every 5 minutes.
const HISTORY_EVERY = 5 * 60e3;
const HISTORY_PATH = "/api/viewer/stats/%2A?days=1";
// The webhook targets' health.
const WEBHOOKS_EVERY = 10e3;

/** Session is everything one signed-in key runs; stop() ends all of it. */
export class Session {
  constructor(key, ui) {
    this.key = key;
    this.ui = ui;
    this.stopped = false;
    this.abort = new AbortController();
    this.timers = [];
    this.stageSubs = new Set();
    this.pushed = false; // a stats_update arrived: REST totals are older news
    this.publisherLive = null;
    this.pool = "";
    this.scaling = null;
    this.soon = 0;
    this.conn = { state: "connecting", detail: {} };
    this.socket = new LiveSocket(socketURL(), key, {
      onOpen: () => this.subscribe(),
      onMessage: (m) => this.onMessage(m),
      onState: (state, detail) => this.onConn(state, detail),
      onRefused: () => this.probeKey(),
    });
  }

  start(firstStats) {
    this.socket.start();
    if (firstStats) this.applyRest(firstStats);
    else this.refresh();
    this.loadHistory();
    this.loadPublisher();
    this.loadWebhooks();
    this.timers.push(
      setInterval(() => this.refresh(), STATS_EVERY),
      setInterval(() => this.loadWebhooks(), WEBHOOKS_EVERY),
      setInterval(() => this.loadHistory(), HISTORY_EVERY),
      setInterval(() => this.tick(), 1000),
    );
  }

  stop() {
    this.stopped = true;
    this.abort.abort();
    this.timers.forEach(clearInterval);
    clearTimeout(this.soon);
    this.socket.stop();
  }

  // call fetches a route; a refused key ends the session and brings the form
  // back. Any other failure is the caller's to show.
  async call(path) {
    try {
      return await getJSON(path, this.key, this.abort.signal);
    } catch (err) {
      if (!this.stopped && err instanceof ApiError && err.keyRefused) this.ui.signOut(refusal(err));
      throw err;
    }
  }

  // probeKey tells a refused WebSocket from a dead server: the browser hides
  // the handshake's 401, the REST API does not.
  async probeKey() {
    if (this.stopped) return true;
    try {
      this.applyRest(await this.call("/api/stats"));
      return false;
    } catch (err) {
      return this.stopped || (err instanceof ApiError && err.keyRefused);
    }
  }

  subscribe() {
    this.stageSubs.clear();
    this.socket.send({ type: "subscribe", channel: "stats" });
    this.socket.send({ type: "subscribe", channel: "events" });
    this.syncStageSubs();
  }

  // syncStageSubs follows the rows shown: one stage:<arn> channel per row.
  syncStageSubs() {
    if (!this.socket.isOpen) return;
    const want = new Set(this.ui.stages.arns());
    for (const arn of want) {
      if (!this.stageSubs.has(arn)) this.socket.send({ type: "subscribe", channel: "stage:" + arn });
    }
    for (const arn of this.stageSubs) {
      if (!want.has(arn)) this.socket.send({ type: "unsubscribe", channel: "stage:" + arn });
    }
    this.stageSubs = want;
  }

  onMessage(m) {
    if (this.stopped) return;
    const d = m.data || {};
    switch (m.type) {
      case "stats_update":
        this.pushed = true;
        this.applyStats(d);
        break;
      case "stage_update":
        if (!this.ui.stages.update(d)) this.syncStageSubs();
        break;
      case "event":
        view.addEvent(d);
        break;
      case "subscribed":
        if (m.channel === "events") view.setEventsNote(null);
        break;
      case "error":
        this.onError(m.error || {});
        break;
    }
  }

  // Errors name no channel; FORBIDDEN can only answer the events
  // subscription, the one channel that needs an admin key.
  onError(e) {
    if (e.code === "FORBIDDEN") {
      view.setEventsNote("This key cannot read events: the events channel needs an admin key.");
    } else {
      console.warn("ivslive websocket error", e.code, e.message);
    }
  }

  applyStats(d) {
    const perStage = seatsPerStage(d) || this.ui.stages.perStage;
    view.renderTotals(d, perStage);
    this.ui.stages.replace(d.stages || [], perStage);
    this.syncStageSubs();
    const t = Date.parse(d.timestamp);
    this.ui.chart.addLive(Number.isFinite(t) ? t : Date.now(), Number(d.totalViewers ?? d.viewerCount));
    view.setText("last-update", "Updated " + view.fmtClock(Number.isFinite(t) ? t : Date.now()));
    // The scaling blocker depends on the publisher and the pool: when either
    // changes, ask again now rather than at the next 30 s poll.
    const live = Boolean(d.isPublisherLive);
    const pool = (d.stages || []).map((s) => s.stageArn + (s.autoScaled ? "+" : "") + s.state).sort().join();
    if (this.publisherLive !== null && live !== this.publisherLive) this.loadPublisher();
    if (this.publisherLive !== null && (live !== this.publisherLive || pool !== this.pool)) this.refreshSoon();
    this.publisherLive = live;
    this.pool = pool;
    if (this.scaling) {
      const autoScaledStages = (d.stages || []).filter((s) => s.autoScaled).length;
      view.renderScaling({ ...this.scaling, autoScaledStages, capacityLeft: d.capacityLeft });
    }
  }

  refreshSoon() {
    clearTimeout(this.soon);
    this.soon = setTimeout(() => this.refresh(), 500);
  }

  // applyRest takes GET /api/stats: always its scaling part, and its totals
  // only while no push has come, so an older answer never rolls numbers back.
  applyRest(d) {
    this.scaling = d.scaling;
    view.renderScaling({ ...d.scaling, capacityLeft: d.capacityLeft });
    if (!this.pushed || !this.socket.isOpen) this.applyStats(d);
  }

  async refresh() {
    try {
      this.applyRest(await this.call("/api/stats"));
    } catch {
      // Shown by the connection state; the next tick tries again.
    }
  }

  async loadHistory() {
    try {
      this.ui.chart.setHistory(await this.call(HISTORY_PATH));
    } catch (err) {
      if (!this.stopped && err.name !== "AbortError") this.ui.chart.setHistoryError(err.message);
    }
  }

  async loadPublisher() {
    try {
      view.renderPublisher(await this.call("/api/stats/publisher"));
    } catch {
      // The live/offline pill still comes from stats_update.
    }
  }

  async loadWebhooks() {
    try {
      this.ui.webhooks.render(await this.call("/api/webhooks"));
    } catch {
      // An older server, or a failure: the panel keeps its last state.
    }
  }

  onConn(state, detail) {
    if (this.stopped) return;
    this.conn = { state, detail };
    view.renderConn(state, detail, Date.now());
  }

  tick() {
    if (this.conn.detail.retryAt) view.renderConn(this.conn.state, this.conn.detail, Date.now());
  }
}

// seatsPerStage infers the per-stage capacity (MAX_VIEWERS_PER_STAGE), which
// no route states: capacityLeft is the sum of the free seats of the active
// stages, and stages never overfill, so seats × active = capacityLeft + viewers.
function seatsPerStage(d) {
  const active = (d.stages || []).filter((s) => s.state !== "draining" && s.state !== "deleted");
  if (!active.length || !Number.isFinite(d.capacityLeft)) return 0;
  const seated = active.reduce((n, s) => n + (Number(s.viewerCount) || 0), 0);
  return Math.round((d.capacityLeft + seated) / active.length);
}

export function refusal(err) {
  return err.status === 401
    ? "The server refused this API key. Enter a valid key."
    : "This key may not read live stats (" + err.message + "). Use a key with the read or admin scope.";
}
