// app.js: the dashboard's entry point. It signs in with an API key, then
// keeps one Session (REST polling + the /ws push) until sign-out or refusal.

import { ApiError, clearKey, getJSON, loadKey, saveKey } from "./api.js";
import { Chart } from "./chart.js";
import { Session, refusal } from "./session.js";
import { StageTable } from "./stages.js";
import * as view from "./view.js";
import { WebhookPanel } from "./webhooks.js";

const { $ } = view;

/** UI owns the page: the sign-in form, the widgets and the current session. */
class UI {
  constructor() {
    this.session = null;
    this.stages = new StageTable($("stages"));
    this.webhooks = new WebhookPanel($("webhooks"));
    this.chart = new Chart($("chart"));
    $("login").addEventListener("submit", (e) => {
      e.preventDefault();
      this.signIn($("api-key").value.trim());
    });
    $("sign-out").addEventListener("click", () => this.signOut("Signed out: the key was removed from this tab.", false));
    $("reconnect-now").addEventListener("click", () => this.session && this.session.socket.retryNow());
    for (const b of document.querySelectorAll(".range button")) {
      b.addEventListener("click", () => {
        for (const o of document.querySelectorAll(".range button")) o.setAttribute("aria-pressed", String(o === b));
        this.chart.setRange(b.dataset.range);
      });
    }
  }

  boot() {
    const key = loadKey();
    if (key) this.open(key, null);
    else this.showLogin("");
  }

  async signIn(key) {
    const msg = $("login-message");
    if (!key) {
      msg.className = "error";
      msg.textContent = "Enter an API key.";
      return;
    }
    const button = $("login-submit");
    button.disabled = true;
    msg.textContent = "";
    msg.className = "error";
    try {
      // Checked once here so a typo is answered on the form, not by a
      // dashboard that appears and vanishes.
      const stats = await getJSON("/api/stats", key);
      saveKey(key);
      this.open(key, stats);
    } catch (err) {
      if (err instanceof ApiError && err.keyRefused) msg.textContent = refusal(err);
      else if (err instanceof ApiError && err.status === 0) msg.textContent = "Cannot reach the server. Check the connection and try again.";
      else {
        saveKey(key); // the key passed auth; the server has another problem the dashboard will show
        this.open(key, null);
      }
    } finally {
      button.disabled = false;
    }
  }

  open(key, firstStats) {
    $("login-panel").hidden = true;
    $("api-key").value = "";
    $("dashboard").hidden = false;
    $("session-controls").hidden = false;
    this.session = new Session(key, this);
    this.session.start(firstStats);
    this.chart.render(); // the container had no width while hidden
  }

  /** Ends the session, forgets the key and shows the form with a message. */
  signOut(message, isError = true) {
    if (this.session) this.session.stop();
    this.session = null;
    clearKey();
    this.stages.clear();
    this.webhooks.clear();
    this.chart.reset();
    view.resetView();
    this.showLogin(message, isError);
  }

  showLogin(message, isError = true) {
    $("dashboard").hidden = true;
    $("session-controls").hidden = true;
    $("login-panel").hidden = false;
    const msg = $("login-message");
    msg.textContent = message;
    msg.className = isError ? "error" : "info";
    $("api-key").focus();
  }
}

new UI().boot();
