// chart.js: viewers over time, drawn as SVG by hand (the page ships no
// library). Two series: the history's peak per snapshot bucket, and the
// live totals pushed since the page opened.

import { el, fmtInt } from "./view.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const MINUTE = 60e3;
const HOUR = 60 * MINUTE;
const RANGES = { "24h": 24 * HOUR, "1h": HOUR };
const LIVE_KEEP = HOUR;
const HEIGHT = 260;
const PAD = { top: 14, right: 16, bottom: 28, left: 46 };
// Widths of the x-axis steps, the smallest that fits is used.
const X_STEPS = [5, 10, 15, 30, 60, 120, 180, 360, 720].map((m) => m * MINUTE);
const HOVER_PX = 28;

const hm = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const hms = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const day = new Intl.DateTimeFormat(undefined, { weekday: "short" });

export class Chart {
  constructor(root) {
    this.root = root;
    this.range = "24h";
    this.history = []; // {t, peak, avg}, t = bucket start (ms)
    this.bucket = 5 * MINUTE;
    this.historyState = "loading"; // loading | ok | error
    this.historyError = "";
    this.peak24h = null;
    this.live = []; // {t, v}
    this.width = 0;
    this.scale = null;
    this.pointerX = null;

    this.svg = svg("svg", { role: "img", "aria-label": "Viewers over time" });
    this.empty = el("div", "empty-state");
    this.tip = el("div", "tooltip");
    this.tip.hidden = true;
    this.legend = el("ul", "chart-legend");
    root.replaceChildren(this.svg, this.empty, this.tip, this.legend);

    this.svg.addEventListener("pointermove", (e) => this.hover(e));
    this.svg.addEventListener("pointerdown", (e) => this.hover(e));
    this.svg.addEventListener("pointerleave", () => this.unhover());
    new ResizeObserver(() => {
      if (root.clientWidth !== this.width) this.render();
    }).observe(root);
  }

  setRange(range) {
    if (RANGES[range]) this.range = range;
    this.render();
  }

  /** Takes the data of GET /api/viewer/stats/%2A. */
  setHistory(data) {
    const series = (data && data.series) || {};
    this.bucket = (series.bucketSeconds || 300) * 1000;
    this.history = (series.points || [])
      .map((p) => ({ t: Date.parse(p.time), peak: Number(p.peakViewers) || 0, avg: Number(p.avgViewers) || 0 }))
      .filter((p) => Number.isFinite(p.t))
      .sort((a, b) => a.t - b.t);
    this.peak24h = data && data.stats ? data.stats.peakViewers : null;
    this.historyState = "ok";
    this.render();
  }

  setHistoryError(message) {
    // Keep the last good history: an outage of the history database should
    // not blank a chart that was fine a minute ago.
    if (this.historyState !== "ok") this.historyState = "error";
    this.historyError = message;
    this.render();
  }

  /** Appends a live total; keeps the last hour. */
  addLive(t, v) {
    if (!Number.isFinite(t) || !Number.isFinite(v)) return;
    const last = this.live[this.live.length - 1];
    if (last && t <= last.t) {
      if (t === last.t) last.v = v;
      return; // an older push arriving late: the line must go forward in time
    }
    this.live.push({ t, v });
    const cut = t - LIVE_KEEP;
    while (this.live.length && this.live[0].t < cut) this.live.shift();
    this.render();
  }

  reset() {
    this.history = [];
    this.live = [];
    this.peak24h = null;
    this.historyState = "loading";
    this.historyError = "";
    this.render();
  }

  render() {
    this.width = this.root.clientWidth;
    const w = this.width;
    if (!w) return;
    const lastLive = this.live[this.live.length - 1];
    const end = Math.max(Date.now(), lastLive ? lastLive.t : 0);
    const start = end - RANGES[this.range];
    const hist = this.history.filter((p) => p.t + this.bucket > start && p.t <= end);
    const live = this.live.filter((p) => p.t >= start);
    const maxV = Math.max(0, ...hist.map((p) => p.peak), ...live.map((p) => p.v));
    const yTicks = niceTicks(maxV);
    const yMax = yTicks[yTicks.length - 1];
    const plotW = w - PAD.left - PAD.right;
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const x = (t) => PAD.left + ((Math.max(t, start) - start) / (end - start)) * plotW;
    const y = (v) => PAD.top + plotH - (v / yMax) * plotH;
    this.scale = { x, y, start, end, hist, live };

    const root = this.svg;
    root.replaceChildren();
    root.setAttribute("viewBox", `0 0 ${w} ${HEIGHT}`);
    root.setAttribute("width", w);
    root.setAttribute("height", HEIGHT);

    const grid = svg("g", { class: "grid" });
    const axis = svg("g", { class: "axis" });
    for (const v of yTicks) {
      grid.append(svg("line", { x1: PAD.left, x2: w - PAD.right, y1: y(v), y2: y(v) }));
      axis.append(text(fmtInt(v), { x: PAD.left - 8, y: y(v) + 4, "text-anchor": "end" }));
    }
    for (const t of timeTicks(start, end, plotW)) {
      const d = new Date(t);
      const label = d.getHours() === 0 && d.getMinutes() === 0 ? day.format(d) : hm.format(d);
      axis.append(svg("line", { x1: x(t), x2: x(t), y1: PAD.top + plotH, y2: PAD.top + plotH + 4 }));
      axis.append(text(label, { x: x(t), y: HEIGHT - 8, "text-anchor": "middle" }));
    }
    axis.append(svg("line", { x1: PAD.left, x2: w - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH }));
    root.append(grid, axis);

    // Missing buckets mean no snapshot was taken (the server was down): the
    // line breaks there instead of drawing a slope nobody measured.
    for (const seg of segments(hist, this.bucket * 2.5)) {
      const pts = seg.map((p) => [x(p.t), y(p.peak)]);
      if (pts.length === 1) pts.push([Math.min(x(seg[0].t + this.bucket), w - PAD.right), pts[0][1]]);
      const line = pts.map(([px, py], i) => (i ? "L" : "M") + px.toFixed(1) + " " + py.toFixed(1)).join("");
      const base = y(0).toFixed(1);
      root.append(svg("path", { class: "area", d: `${line}L${pts[pts.length - 1][0].toFixed(1)} ${base}L${pts[0][0].toFixed(1)} ${base}Z` }));
      root.append(svg("path", { class: "line", d: line }));
    }
    if (live.length) {
      const d = live.map((p, i) => (i ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p.v).toFixed(1)).join("");
      if (live.length > 1) root.append(svg("path", { class: "line live", d }));
      const last = live[live.length - 1];
      root.append(svg("circle", { class: "dot-live", cx: x(last.t), cy: y(last.v), r: 3.5 }));
    }
    this.cursor = svg("g", { class: "cursor", visibility: "hidden" });
    this.cursor.append(svg("line", { y1: PAD.top, y2: PAD.top + plotH }), svg("circle", { r: 4.5 }));
    root.append(this.cursor);

    this.renderEmpty(hist.length + live.length === 0);
    this.renderLegend(hist.length > 0, live.length > 0);
    root.setAttribute("aria-label", this.summary(hist, live));
    // Pushes redraw every second: keep the readout under a resting pointer.
    if (this.pointerX == null) this.hideTip();
    else this.showAt(this.pointerX);
  }

  renderEmpty(empty) {
    let msg = "";
    if (empty) {
      const span = this.range === "24h" ? "24 hours" : "hour";
      if (this.historyState === "loading") msg = "Loading the audience history…";
      else if (this.historyState === "error") msg = `History unavailable (${this.historyError}). Live totals will appear here as they arrive.`;
      else msg = `No audience recorded in the last ${span}. Snapshots are taken every 5 minutes; live totals appear as they arrive.`;
    }
    this.empty.textContent = msg;
    this.empty.hidden = !empty;
  }

  renderLegend(hasHistory, hasLive) {
    const items = [el("li", "", `Peak viewers per ${fmtSpan(this.bucket)} (history)`)];
    if (hasLive) items.push(el("li", "live", "Live total (since this page opened, last hour)"));
    if (!hasHistory && hasLive && this.historyState === "ok") items.push(el("li", "extra", "No snapshots in this range yet (one every 5 min)"));
    if (Number.isFinite(this.peak24h) && this.peak24h > 0) items.push(el("li", "extra", "24 h peak: " + fmtInt(this.peak24h)));
    if (this.historyState === "error" && this.history.length) items.push(el("li", "extra", "History refresh failed: " + this.historyError));
    this.legend.replaceChildren(...items);
  }

  summary(hist, live) {
    const last = live[live.length - 1];
    const peak = Math.max(0, ...hist.map((p) => p.peak), ...live.map((p) => p.v));
    let s = `Viewers over the last ${this.range === "24h" ? "24 hours" : "hour"}: peak ${fmtInt(peak)}`;
    if (last) s += `, now ${fmtInt(last.v)}`;
    return s + ".";
  }

  hover(e) {
    this.pointerX = e.clientX - this.svg.getBoundingClientRect().left;
    this.showAt(this.pointerX);
  }

  showAt(px) {
    const sc = this.scale;
    if (!sc) return;
    let best = null;
    let bestDist = HOVER_PX;
    const consider = (p, value, kind) => {
      const d = Math.abs(sc.x(p.t) - px);
      // On a tie the live point wins: it is the fresher number.
      if (d < bestDist || (d === bestDist && kind === "live")) [best, bestDist] = [{ p, value, kind }, d];
    };
    for (const p of sc.hist) consider(p, p.peak, "history");
    for (const p of sc.live) consider(p, p.v, "live");
    if (!best) return this.hideTip();
    const cx = sc.x(best.p.t);
    const cy = sc.y(best.value);
    const [line, dot] = this.cursor.children;
    line.setAttribute("x1", cx);
    line.setAttribute("x2", cx);
    dot.setAttribute("cx", cx);
    dot.setAttribute("cy", cy);
    this.cursor.setAttribute("visibility", "visible");
    this.tip.textContent =
      best.kind === "live"
        ? `${hms.format(best.p.t)} · ${fmtInt(best.value)} viewers (live)`
        : `${hm.format(best.p.t)}–${hm.format(best.p.t + this.bucket)} · peak ${fmtInt(best.p.peak)}, avg ${fmtAvg(best.p.avg)}`;
    this.tip.hidden = false;
    const half = this.tip.offsetWidth / 2;
    this.tip.style.left = Math.min(Math.max(cx, half), this.width - half) + "px";
    this.tip.style.top = Math.max(cy, 30) + "px";
  }

  unhover() {
    this.pointerX = null;
    this.hideTip();
  }

  hideTip() {
    if (this.cursor) this.cursor.setAttribute("visibility", "hidden");
    this.tip.hidden = true;
  }
}

function svg(tag, attrs) {
  const n = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  return n;
}

function text(s, attrs) {
  const n = svg("text", attrs);
  n.textContent = s;
  return n;
}

// niceTicks returns 0 and 4–5 evenly spaced whole numbers covering max.
function niceTicks(max) {
  const raw = Math.max(max, 4) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw));
  const top = Math.ceil(Math.max(max, 1) / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v));
  return ticks;
}

// timeTicks returns local-time-aligned ticks (on the hour, or at round
// minutes) spaced so the labels do not collide.
function timeTicks(start, end, width) {
  const fit = Math.max(2, Math.floor(width / 72));
  const step = X_STEPS.find((s) => (end - start) / s <= fit) || X_STEPS[X_STEPS.length - 1];
  const d = new Date(start);
  d.setSeconds(0, 0);
  if (step < HOUR) {
    const m = step / MINUTE;
    d.setMinutes(Math.ceil(d.getMinutes() / m) * m);
  } else {
    const h = step / HOUR;
    if (d.getMinutes() > 0) d.setHours(d.getHours() + 1, 0);
    while (d.getHours() % h !== 0) d.setHours(d.getHours() + 1);
  }
  const ticks = [];
  for (let t = d.getTime(); t <= end; t += step) if (t >= start) ticks.push(t);
  return ticks;
}

// segments splits points where consecutive times are further apart than gap.
function segments(points, gap) {
  const out = [];
  let cur = [];
  for (const p of points) {
    if (cur.length && p.t - cur[cur.length - 1].t > gap) {
      out.push(cur);
      cur = [];
    }
    cur.push(p);
  }
  if (cur.length) out.push(cur);
  return out;
}

function fmtSpan(ms) {
  const m = Math.round(ms / MINUTE);
  return m % 60 === 0 ? m / 60 + " h" : m + " min";
}

function fmtAvg(v) {
  return Number.isInteger(v) ? fmtInt(v) : v.toFixed(1);
}
