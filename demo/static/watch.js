// watch.js: the live publisher, played back through the IVS emulator's
// subscribe path ({whip_url}/subscribe/{participantId}, WHEP-style) with a
// viewer token. The viewer's presence is kept the way the README's browser
// example keeps it: a heartbeat every 30 s (the first when playback starts)
// and a leave when the page goes, both with the session token, never the
// key.

import { DemoError, api, checkOrigin, claims, connect, followConnection, rtpStats, runPage, sessionCall, show, showBytes, whipDelete } from "./demo.js";

const HEARTBEAT_EVERY = 30e3;

const $ = (id) => document.getElementById(id);
const status = $("status");
const video = $("video");

$("user-id").value = "demo-viewer-" + Math.random().toString(36).slice(2, 8);
const stop = runPage({
  make: (key) => new Watching(key),
  keyHint: "Enter an API key with the viewer or admin scope.",
  stoppedText: "Left: the playback session was deleted and the viewer left.",
  explain: (err) => err.status === 404 && /token\/viewer/.test(err.message)
    ? "No publisher is live: start one on the publish page or with `ivslive publish`. (" + err.message + ")"
    : err.message,
});

/** Watching is one playback session and the viewer's presence; end() frees all of it. */
class Watching {
  constructor(key) {
    this.key = key;
    this.pc = null;
    this.token = "";
    this.sessionToken = "";
    this.location = "";
    this.timers = [];
    this.ended = false;
  }

  async start(userId) {
    if (!window.RTCPeerConnection) throw new DemoError("This browser has no WebRTC.");
    show(status, "token", "Asking for a viewer token…");
    const tok = await api("/api/token/viewer", this.key, { userId });
    this.sessionToken = tok.sessionToken || "";
    if (tok.mode === "playback") return this.playHLS(tok);
    this.token = tok.token;
    const whip = claims(tok.token).whip_url;
    $("publisher").textContent = tok.publisherParticipantId;
    $("stage").textContent = tok.stageArn;
    checkOrigin(whip, "watch");
    if (this.sessionToken) this.timers.push(setInterval(() => this.heartbeat(), HEARTBEAT_EVERY));

    const pc = (this.pc = new RTCPeerConnection({ iceServers: [] }));
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    const stream = new MediaStream();
    video.srcObject = stream;
    pc.addEventListener("track", (e) => stream.addTrack(e.track));
    // The first heartbeat goes when the picture starts: it proves the
    // session token at once rather than 30 s later.
    followConnection(pc, status, "Watching.", "Press Leave, then Watch.", () => this.ended, () => this.heartbeat());

    show(status, "offer", "Asking the stage for the publisher's media…");
    const url = whip.replace(/\/+$/, "") + "/subscribe/" + encodeURIComponent(tok.publisherParticipantId);
    this.location = await connect(pc, url, this.token, () => this.ended);
    if (this.ended) return;
    show(status, "connecting", "Connecting…");
    this.timers.push(setInterval(() => this.stats(), 1000));
  }

  /** playHLS plays the channel (the answer's playbackUrl, token included). */
  playHLS(tok) {
    $("publisher").textContent = tok.publisherParticipantId;
    $("stage").textContent = "channel " + tok.channelArn + " (HLS playback)";
    if (this.sessionToken) this.timers.push(setInterval(() => this.heartbeat(), HEARTBEAT_EVERY));
    const playing = () => {
      show(status, "live", "Watching the channel (HLS playback: a few seconds behind).");
      this.heartbeat();
    };
    video.addEventListener("playing", playing, { once: true });
    if (window.Hls && window.Hls.isSupported()) {
      this.hls = new window.Hls({ enableWorker: false, lowLatencyMode: true });
      this.hls.on(window.Hls.Events.ERROR, (_, data) => {
        if (!data.fatal || this.ended) return;
        // A channel answers 404 until the composition's first segment (IVS
        // does the same while a channel is offline): ask again.
        if (data.details === window.Hls.ErrorDetails.MANIFEST_LOAD_ERROR) {
          show(status, "connecting", "Waiting for the channel to go live…");
          this.timers.push(setTimeout(() => !this.ended && this.hls.loadSource(tok.playbackUrl), 1000));
          return;
        }
        stop("error", "HLS playback failed: " + data.details);
      });
      this.hls.loadSource(tok.playbackUrl);
      this.hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = tok.playbackUrl; // Safari plays HLS natively
    } else {
      throw new DemoError("This browser cannot play HLS (no MediaSource).");
    }
    show(status, "connecting", "Loading the channel's playlist…");
    this.timers.push(setInterval(() => this.stats(), 1000));
  }

  async heartbeat() {
    try {
      const res = await sessionCall("/api/viewer/heartbeat", this.sessionToken);
      if (res.status === 404 && !this.ended) stop("error", "The viewing session timed out: press Watch to join again.");
    } catch {
      // Offline for a moment: the next heartbeat tries again.
    }
  }

  async stats() {
    const size = $("video-size");
    size.dataset.width = String(video.videoWidth);
    size.textContent = video.videoWidth ? `${video.videoWidth}×${video.videoHeight}` : "no picture yet";
    if (!this.pc) return;
    const inbound = await rtpStats(this.pc, "inbound-rtp", "video");
    if (inbound) showBytes($("received"), inbound.bytesReceived || 0);
  }

  /** Ends everything; keepalive lets the requests outlive a closing page. */
  end(keepalive) {
    if (this.ended) return;
    this.ended = true;
    this.timers.forEach((t) => { clearInterval(t); clearTimeout(t); });
    if (this.location) whipDelete(this.location, this.token, keepalive);
    if (this.sessionToken) sessionCall("/api/viewer/leave", this.sessionToken, keepalive).catch(() => {});
    if (this.pc) this.pc.close();
    if (this.hls) this.hls.destroy();
    video.srcObject = null;
    video.removeAttribute("src");
  }
}
