// hallpass pages: tell a logged-in page at once when its session ends elsewhere (another
// device logged it out, the session limit evicted it, an administrator forced it out), instead
// of on its next click. Loaded as a module from our own origin; the CSP forbids inline script.
const notice = document.getElementById("live-notice");

if (notice && typeof EventSource === "function") {
  // Same origin: the HttpOnly session cookie goes along; script never sees it.
  const events = new EventSource("/v1/session/events");
  events.addEventListener("ended", () => {
    // The server closes the stream after this event; without close() the browser would
    // reconnect (and be refused) over and over.
    events.close();
    notice.hidden = false;
    notice.focus();
    // Forms of a dead session would only fail.
    for (const form of document.querySelectorAll("main form, .site-header form")) {
      for (const control of form.elements) control.disabled = true;
    }
  });
  // A form of this page may end the session itself (log out, log out everywhere): stop
  // listening as it is sent, so the notice does not flash on the way out.
  document.addEventListener("submit", () => events.close(), true);
  window.addEventListener("pagehide", () => events.close());
}
