// webhooks.js: the webhook targets' health, from GET /api/webhooks. The
// panel stays hidden on a server without webhook targets.

import { $, el, fmtClock, fmtInt, setText } from "./view.js";

const STATUS_TEXT = { ok: "ok", failing: "failing", disabled: "disabled (410)" };

export class WebhookPanel {
  constructor(table) {
    this.body = table.tBodies[0];
  }

  /** Shows the targets of a GET /api/webhooks answer. */
  render(d) {
    const on = !!(d && d.enabled);
    $("webhooks-card").hidden = !on;
    if (!on) return;
    const rows = (d.targets || []).map((t) => {
      const row = el("tr");
      row.dataset.status = t.status;
      const name = el("td", "hook-name", t.name);
      name.title = t.url;
      const status = el("td");
      status.append(el("span", "badge hook-" + t.status, STATUS_TEXT[t.status] || t.status));
      const last = el("td", "", t.lastDeliveredAt ? fmtClock(t.lastDeliveredAt) : "never");
      const error = el("td", "hook-error", t.status === "ok" ? "" : t.disabledReason || t.lastError || "");
      if (t.failing) error.title = fmtInt(t.failing) + " failed attempts since the last delivery";
      row.append(name, status, el("td", "right", fmtInt(t.queued)), last, error);
      return row;
    });
    this.body.replaceChildren(...rows);
    const lost = Number(d.eventsLost) || 0;
    setText("webhooks-lost", lost ? fmtInt(lost) + " events lost before queueing" : "");
  }

  clear() {
    this.body.replaceChildren();
    $("webhooks-card").hidden = true;
  }
}
