// hallpass pages: tell a logged-in page at once when its session ends elsewhere (another
// device logged it out, the session limit evicted it, an administrator forced it out), instead
// of on its next click. Loaded as a module from our own origin; the CSP forbids inline script.
//
// Browsers allow about six HTTP/1.1 connections per host, and an event stream holds one for as
// long as the page is open. So the tabs of one browser elect a leader with a Web Lock: only the
// leader keeps the stream, and tells the other tabs over a BroadcastChannel. When the leader
// tab closes, its lock is released and another tab takes over.
const notice = document.getElementById("live-notice");
const session = notice?.dataset.session;

function showNotice() {
  if (!notice || !notice.hidden) return;
  notice.hidden = false;
  notice.focus();
  // Forms of a dead session would only fail.
  for (const form of document.querySelectorAll("main form, .site-header form")) {
    for (const control of form.elements) control.disabled = true;
  }
}

// Resolves when this page starts leaving (a form post, a link): a form of this page may end
// the session itself (log out), and the notice must not flash on the way out.
const leaving = new Promise((resolve) => {
  document.addEventListener("submit", resolve, true);
  window.addEventListener("pagehide", resolve);
});

// A refused stream (429: this session or user holds as many as allowed; 503: the server is
// full) is not retried by EventSource itself: it closes for good. Try again after 30 s, 60 s …
// up to 5 minutes, with jitter, never in a loop.
const RETRY_FIRST_MS = 30_000;
const RETRY_MAX_MS = 5 * 60_000;

/** Watches the session until it ends (true) or the page leaves (false). */
function watch() {
  return new Promise((resolve) => {
    let refusals = 0;
    let events = null;
    let retry = null;
    let done = false;
    const finish = (ended) => {
      done = true;
      clearTimeout(retry);
      events?.close();
      resolve(ended);
    };
    const open = () => {
      if (done) return;
      // Same origin: the HttpOnly session cookie goes along; script never sees it.
      events = new EventSource("/v1/session/events");
      events.addEventListener("session", () => {
        refusals = 0;
      });
      // Without close() the browser would reconnect (and be refused) over and over.
      events.addEventListener("ended", () => finish(true));
      events.addEventListener("error", () => {
        // CONNECTING: a dropped connection the browser retries by itself. CLOSED: refused.
        if (done || events.readyState !== EventSource.CLOSED) return;
        const ms = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** refusals) * (1 + Math.random() * 0.2);
        refusals += 1;
        retry = setTimeout(open, ms);
      });
    };
    open();
    leaving.then(() => finish(false));
  });
}

if (notice && session && typeof EventSource === "function") {
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("hallpass-live") : null;
  channel?.addEventListener("message", (event) => {
    if (event.data?.ended === session) showNotice();
  });
  const lead = async () => {
    if (await watch()) {
      channel?.postMessage({ ended: session });
      showNotice();
    }
  };
  if (navigator.locks) {
    // Held until this tab's watch ends; the next tab in line then opens its own stream.
    navigator.locks.request("hallpass-live", lead);
  } else {
    lead();
  }
}
