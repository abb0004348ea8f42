// stages.js: the stage table. Rows are keyed by ARN and updated in place, so
// a push every second changes a few text nodes instead of rebuilding the
// table (no flicker, and focus or a text selection survives).

import { $, el, fmtInt, setText, shortId } from "./view.js";

export class StageTable {
  constructor(table) {
    this.body = table.tBodies[0];
    this.rows = new Map(); // ARN → row
    this.perStage = 0;
  }

  /** Returns the ARNs shown. */
  arns() {
    return [...this.rows.keys()];
  }

  /**
   * Shows exactly these stages (a stats_update's list) with perStage seats
   * each for the capacity bars (0: unknown, bars hidden).
   */
  replace(stages, perStage) {
    this.perStage = perStage;
    const seen = new Set();
    for (const s of stages) {
      if (!s || !s.stageArn || s.state === "deleted") continue;
      seen.add(s.stageArn);
      this.upsert(s);
    }
    for (const arn of this.rows.keys()) if (!seen.has(arn)) this.remove(arn);
    this.order();
  }

  /**
   * Applies one stage_update; returns false when the stage is gone. It never
   * adds a row: stats_update decides which stages exist, and an update for a
   * row just removed (sent before our unsubscribe arrived) must not revive it.
   */
  update(s) {
    if (!s || !this.rows.has(s.stageArn)) return true;
    if (s.state === "deleted") {
      this.remove(s.stageArn);
      return false;
    }
    this.upsert(s);
    return true;
  }

  remove(arn) {
    const row = this.rows.get(arn);
    if (row) row.remove();
    this.rows.delete(arn);
    this.summarise();
  }

  clear() {
    this.rows.clear();
    this.body.replaceChildren();
    this.summarise();
  }

  upsert(s) {
    let row = this.rows.get(s.stageArn);
    if (!row) {
      row = newRow(s.stageArn);
      this.rows.set(s.stageArn, row);
      this.body.append(row);
    }
    const name = s.name || s.stageName || "unnamed";
    row.dataset.state = s.state || "active";
    row.dataset.name = name;
    row.dataset.master = s.isMaster ? "1" : "";
    setText(row.cells[0], name);
    const n = Number(s.viewerCount) || 0;
    const cell = row.cells[2];
    cell.dataset.viewers = String(n);
    setText(cell.firstChild, fmtInt(n));
    showIVS(cell.children[1], s);
    this.bar(cell.lastChild, n);
    const state = row.cells[3].firstChild;
    state.className = "badge state-" + (s.state || "active");
    setText(state, s.state || "active");
    setRoles(row.cells[4].firstChild, s);
  }

  bar(bar, n) {
    bar.hidden = !this.perStage;
    if (!this.perStage) return;
    const ratio = Math.min(1, n / this.perStage);
    bar.firstChild.style.width = (ratio * 100).toFixed(1) + "%";
    bar.dataset.level = ratio >= 0.95 ? "full" : ratio >= 0.8 ? "high" : "ok";
    bar.title = fmtInt(n) + " of " + fmtInt(this.perStage) + " seats (" + Math.round(ratio * 100) + "%)";
  }

  // order puts the master first, then names in natural order: stable across
  // pushes, so rows never jump while their numbers change.
  order() {
    const rows = [...this.rows.values()].sort(
      (a, b) =>
        (b.dataset.master ? 1 : 0) - (a.dataset.master ? 1 : 0) ||
        a.dataset.name.localeCompare(b.dataset.name, undefined, { numeric: true }) ||
        a.dataset.stageArn.localeCompare(b.dataset.stageArn),
    );
    rows.forEach((row, i) => {
      if (this.body.children[i] !== row) this.body.insertBefore(row, this.body.children[i] || null);
    });
    this.summarise();
  }

  summarise() {
    const n = this.rows.size;
    $("stages-empty").hidden = n > 0;
    setText("stages-count", n ? fmtInt(n) + (n === 1 ? " stage" : " stages") : "");
  }
}

function newRow(arn) {
  const row = el("tr");
  row.dataset.stageArn = arn;
  const id = el("td", "stage-id");
  id.append(el("code", "", shortId(arn)));
  id.title = arn;
  const viewers = el("td", "stage-viewers right");
  const bar = el("span", "bar");
  bar.append(el("span", "fill"));
  const ivs = el("span", "ivs");
  ivs.hidden = true;
  viewers.append(el("span", "count", "0"), ivs, bar);
  const state = el("td", "stage-state");
  state.append(el("span", "badge"));
  const roles = el("td", "stage-roles");
  roles.append(el("span", "badges"));
  row.append(el("td", "stage-name"), id, viewers, state, roles);
  return row;
}

// showIVS puts IVS's own count beside the heartbeat count when the server
// knows it: connected viewers, the drift between the two, and viewers
// seated where the host's media is missing.
function showIVS(box, s) {
  const parts = [];
  if (s.ivsConnected != null) {
    const d = Number(s.drift) || 0;
    parts.push("IVS " + fmtInt(s.ivsConnected) + (d ? " (drift " + (d > 0 ? "+" : "") + fmtInt(d) + ")" : ""));
  }
  if (s.withoutHost) parts.push(fmtInt(s.withoutHost) + " without host");
  box.hidden = parts.length === 0;
  box.dataset.drift = String(Number(s.drift) || 0);
  setText(box, parts.join(" · "));
  box.title = "Heartbeat viewers vs viewers IVS reports connected";
}

function setRoles(box, s) {
  const want = [];
  if (s.isMaster) want.push(["master", "master"]);
  if (s.autoScaled) want.push(["auto-scaled", "auto-scaled"]);
  if (s.replicating) want.push(["replicating", "replicating"]);
  const key = want.map((w) => w[0]).join(",");
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(...want.map(([cls, text]) => el("span", "badge " + cls, text)));
}
