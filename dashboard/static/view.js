// view.js: formatting and the page's simple parts (header, cards, events).
// Text from the server goes in with textContent only: stage names and user
// ids are chosen by users, so nothing is ever parsed as HTML.

const numberFormat = new Intl.NumberFormat();
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const MAX_EVENTS = 50;

export const $ = (id) => document.getElementById(id);

export function fmtInt(n) {
  return Number.isFinite(n) ? numberFormat.format(n) : "–";
}

/** Formats a time (ms or ISO string) as a local wall-clock time. */
export function fmtClock(t) {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? "" : clockFormat.format(d);
}

/** Returns a stage's short id, the last segment of its ARN. */
export function shortId(arn) {
  return typeof arn === "string" ? arn.slice(arn.lastIndexOf("/") + 1) : "";
}

export function el(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text !== undefined) n.textContent = text;
  return n;
}

// setText writes only on change, so the aria-live total is announced when the
// number moves, not on every push.
export function setText(node, text) {
  if (typeof node === "string") node = $(node);
  if (node.textContent !== text) node.textContent = text;
}

const CONN_LABELS = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting", offline: "Offline" };

/** Shows the WebSocket state in the header. */
export function renderConn(state, detail, now) {
  const node = $("conn-state");
  node.dataset.state = state;
  let label = CONN_LABELS[state] || state;
  if (detail.retryAt) {
    const s = Math.max(0, Math.ceil((detail.retryAt - now) / 1000));
    if (state === "offline") label += s > 0 ? " · retry in " + s + " s" : " · retrying…";
    else label += s > 0 ? " in " + s + " s" : "…";
  }
  setText("conn-label", label);
  node.title = detail.reason || "";
  $("reconnect-now").hidden = state === "live" || state === "connecting";
}

/** Shows the totals of a stats_update (or of GET /api/stats). */
export function renderTotals(d, perStage) {
  const total = d.totalViewers ?? d.viewerCount;
  const t = $("total-viewers");
  setText(t, fmtInt(total));
  t.dataset.value = String(total ?? "");
  // With playback on, how many watch the channel instead of a stage seat.
  setText("viewer-modes", d.playbackViewers
    ? fmtInt(d.realtimeViewers) + " real-time · " + fmtInt(d.playbackViewers) + " playback (HLS)" : "");
  setText("active-stages", fmtInt(d.activeStages));
  setText("draining-stages", fmtInt(d.drainingStages));
  setText("capacity-left", fmtInt(d.capacityLeft));
  setText("capacity-detail", perStage ? fmtInt(perStage) + " seats per active stage" : "");
  const p = $("publisher-status");
  const live = Boolean(d.isPublisherLive);
  p.dataset.state = live ? "live" : "offline";
  setText(p, live ? "Live" : "Offline");
  if (!live) setText("publisher-detail", "");
}

/** Shows who is publishing, from GET /api/stats/publisher. */
export function renderPublisher(p) {
  const parts = [];
  if (p.isPublisherLive) {
    if (p.userId) parts.push(p.userId);
    if (p.joinedAt) parts.push("since " + fmtClock(p.joinedAt));
  }
  setText("publisher-detail", parts.join(" · "));
}

/** Shows the scaling part of GET /api/stats (stats_update has none). */
export function renderScaling(s) {
  const pill = $("scaling-state");
  const blocker = $("scaling-blocker");
  if (!s) {
    pill.dataset.state = "unknown";
    setText(pill, "–");
    setText("scaling-detail", "");
    blocker.hidden = true;
    return;
  }
  // A blocker only matters once the seats run out: before that it is a
  // note ("would not grow now"), not an alarm.
  const full = Boolean(s.blocker) && s.capacityLeft === 0;
  pill.dataset.state = !s.enabled ? "disabled" : full ? "blocked" : "enabled";
  setText(pill, !s.enabled ? "Disabled" : full ? "Full · can't grow" : "Enabled");
  setText("scaling-detail", fmtInt(s.autoScaledStages) + " / " + fmtInt(s.maxAutoScaledStages) + " auto-scaled stages");
  setText(blocker, !s.blocker ? "" : full ? s.blocker : "Would not add a stage now: " + s.blocker);
  blocker.dataset.severity = full ? "error" : "note";
  blocker.hidden = !s.blocker;
}

const EVENT_LABELS = {
  "viewer.joined": "Viewer joined",
  "viewer.left": "Viewer left",
  "viewer.expired": "Viewer expired",
  "stage.created": "Stage created",
  "stage.draining": "Stage draining",
  "stage.active": "Stage active",
  "stage.deleted": "Stage deleted",
  "publisher.live": "Publisher live",
  "publisher.ended": "Publisher ended",
  "replication.started": "Replication started",
  "replication.stopped": "Replication stopped",
  "history.dead_lettered": "History record refused",
};

/** Prepends an event to the list, keeping the newest MAX_EVENTS. */
export function addEvent(e) {
  const type = String(e.type || "event");
  const li = el("li", "event");
  li.dataset.eventType = type;
  const time = el("time", "", fmtClock(e.time || Date.now()));
  if (e.time) time.dateTime = e.time;
  const what = el("span", "what", EVENT_LABELS[type] || type);
  what.dataset.kind = type.split(".")[0];
  what.title = type;
  const meta = el("span", "meta");
  const part = (cls, text) => meta.append(el("span", cls, text));
  if (e.stageArn) part("stage", "stage " + shortId(e.stageArn));
  if (e.userId) part("user", "user " + e.userId);
  if (e.count > 1) part("count", fmtInt(e.count) + " sessions");
  if (Number.isFinite(e.viewers)) part("viewers", fmtInt(e.viewers) + (e.viewers === 1 ? " viewer" : " viewers") + " now");
  if (e.reason) part("reason", e.reason);
  li.append(time, what, meta);
  const list = $("events");
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  $("events-empty").hidden = true;
}

/** Shows (text) or hides (null) the note above the event list. */
export function setEventsNote(text) {
  const note = $("events-note");
  setText(note, text || "");
  note.hidden = !text;
}

/** Empties everything the last key showed. */
export function resetView() {
  for (const id of ["total-viewers", "active-stages", "draining-stages", "capacity-left"]) setText(id, "–");
  for (const id of ["capacity-detail", "publisher-detail", "last-update"]) setText(id, "");
  const p = $("publisher-status");
  p.dataset.state = "unknown";
  setText(p, "–");
  renderScaling(null);
  $("events").replaceChildren();
  $("events-empty").hidden = false;
  setEventsNote(null);
}
