// publish.js: the camera and microphone to the master stage over WHIP.
// A publisher token (admin key) names the stage's WHIP URL; the video is
// H.264, which is what IVS takes, and Stop DELETEs the WHIP session and ends
// the broadcast in ivslive.

import { DemoError, api, checkOrigin, claims, connect, followConnection, rtpStats, runPage, show, showBytes, whipDelete } from "./demo.js";

const $ = (id) => document.getElementById(id);
const status = $("status");

runPage({
  make: (key) => new Publishing(key),
  keyHint: "Enter an API key with the admin scope.",
  stoppedText: "Stopped: the WHIP session was deleted and the broadcast ended.",
});

/** Publishing is one WHIP session; end() frees all of it. */
class Publishing {
  constructor(key) {
    this.key = key;
    this.pc = null;
    this.stream = null;
    this.token = "";
    this.participantId = "";
    this.location = "";
    this.timer = 0;
    this.ended = false;
  }

  async start(userId) {
    if (!window.isSecureContext || !navigator.mediaDevices || !window.RTCPeerConnection) {
      throw new DemoError("The camera needs WebRTC and a secure page: open it on https or on localhost.");
    }
    show(status, "token", "Asking for a publisher token…");
    const tok = await api("/api/token/publisher", this.key, { userId: userId || "demo-host" });
    this.token = tok.token;
    this.participantId = tok.participantId;
    const whip = tok.whipEndpoint || claims(tok.token).whip_url;
    $("participant").textContent = tok.participantId;
    $("whip-url").textContent = whip;
    checkOrigin(whip, "publish");

    show(status, "media", "Opening the camera and microphone…");
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } },
      audio: true,
    });
    if (this.ended) return;
    $("preview").srcObject = this.stream;
    const pc = (this.pc = new RTCPeerConnection({ iceServers: [] }));
    for (const track of this.stream.getTracks()) {
      const t = pc.addTransceiver(track, { direction: "sendonly", streams: [this.stream] });
      if (track.kind === "video") preferH264(t);
    }
    followConnection(pc, status, "Live: publishing to the master stage.", "Press Stop, then Start.", () => this.ended);

    show(status, "offer", "Sending the offer to the stage…");
    this.location = await connect(pc, whip, this.token, () => this.ended);
    if (this.ended) return;
    show(status, "connecting", "Connecting…");
    this.timer = setInterval(() => this.stats(), 1000);
  }

  async stats() {
    if (!this.pc) return;
    const out = await rtpStats(this.pc, "outbound-rtp", "video");
    if (!out) return;
    showBytes($("sent"), out.bytesSent || 0);
    $("sent-detail").textContent = out.frameWidth ? `${out.frameWidth}×${out.frameHeight}, ${Math.round(out.framesPerSecond || 0)} fps` : "";
  }

  /** Ends everything; keepalive lets the requests outlive a closing page. */
  end(keepalive) {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    if (this.location) whipDelete(this.location, this.token, keepalive);
    if (this.participantId) {
      api("/api/token/publisher/end", this.key, { participantId: this.participantId }, keepalive).catch(() => {});
    }
    if (this.pc) this.pc.close();
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    $("preview").srcObject = null;
  }
}

/**
 * Puts H.264 first, constrained baseline in packetization mode 1 ahead of
 * the other H.264 profiles, and offers nothing IVS would refuse (VP8, VP9,
 * AV1).
 */
function preferH264(transceiver) {
  if (!transceiver.setCodecPreferences || !RTCRtpSender.getCapabilities) return;
  const codecs = RTCRtpSender.getCapabilities("video").codecs;
  const h264 = codecs.filter((c) => c.mimeType.toLowerCase() === "video/h264");
  if (h264.length === 0) throw new DemoError("This browser has no H.264 encoder, and IVS takes H.264 only.");
  const rank = (c) => {
    const fmtp = c.sdpFmtpLine || "";
    const mode1 = /packetization-mode=1/.test(fmtp);
    return (mode1 ? 0 : 2) + (/profile-level-id=42e0/i.test(fmtp) ? 0 : 1);
  };
  h264.sort((a, b) => rank(a) - rank(b));
  const rtx = codecs.filter((c) => c.mimeType.toLowerCase() === "video/rtx");
  transceiver.setCodecPreferences([...h264, ...rtx]);
}
