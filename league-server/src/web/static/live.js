// Live leaderboards: every element with data-live follows the server-sent events at that address;
// each "board" event carries the element's new content, rendered by the server. EventSource
// reconnects by itself when the connection drops. Without JavaScript the page shows the board as
// of its loading.
"use strict";
for (const el of document.querySelectorAll("[data-live]")) {
  const status = document.querySelector("[data-live-status]");
  const say = (text) => { if (status) status.textContent = text; };
  const events = new EventSource(el.dataset.live);
  events.addEventListener("board", (e) => {
    el.innerHTML = e.data;
    el.dataset.updates = String(Number(el.dataset.updates || 0) + 1);
    say("Live · updated " + new Date().toLocaleTimeString());
  });
  events.addEventListener("open", () => say("Live · new results appear as they arrive"));
  events.addEventListener("error", () => say("Reconnecting…"));
}
