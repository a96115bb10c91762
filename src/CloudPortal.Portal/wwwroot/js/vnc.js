// The browser console: noVNC's RFB client on Compute's websocket proxy. The URL carries a single-use ticket the
// page was given a moment ago; a reconnect needs a new page (and so a new ticket).
import RFB from "/assets/lib/novnc/core/rfb.js";

const screen = document.getElementById("vnc-screen");
const status = document.getElementById("vnc-status");
const rfb = new RFB(screen, screen.dataset.url, { shared: true });
rfb.scaleViewport = true;
rfb.addEventListener("connect", () => { status.textContent = "connected"; screen.dataset.connected = "true"; });
rfb.addEventListener("disconnect", e => { status.textContent = e.detail.clean ? "disconnected" : "the connection was lost"; });
rfb.addEventListener("securityfailure", e => { status.textContent = "refused: " + (e.detail.reason ?? "security failure"); });
