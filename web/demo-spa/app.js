// The demo single-page app: signs in against hallpass from another origin with the browser SDK,
// which it loads from hallpass itself (`<hallpass>/sdk/hallpass.js`).
//
// Open it as http://localhost:5173/?hallpass=http://localhost:8080 (the default hallpass URL),
// with this page's origin in hallpass's allowed_origins. See docs/browser-sdk.md.

const DEFAULT_HALLPASS = "http://localhost:8080";

const $ = (id) => document.getElementById(id);
const ui = {
  error: $("error"),
  ended: $("session-ended"),
  endedReason: $("session-ended-reason"),
  loading: $("loading-view"),
  loadingText: $("loading-text"),
  loginView: $("login-view"),
  loginForm: $("login-form"),
  username: $("username"),
  password: $("password"),
  loginSubmit: $("login-submit"),
  signupLink: $("signup-link"),
  signedIn: $("signed-in"),
  whoami: $("whoami"),
  profileAvatar: $("profile-avatar"),
  roles: $("roles"),
  userId: $("user-id"),
  userEmail: $("user-email"),
  chip: $("user-chip"),
  chipAvatar: $("user-chip-avatar"),
  chipName: $("user-chip-name"),
  countdown: $("countdown"),
  meter: $("token-meter"),
  refreshCount: $("refresh-count"),
  refreshNow: $("refresh-now"),
  callMe: $("call-me"),
  meResult: $("me-result"),
  logout: $("logout"),
  logoutEverywhere: $("logout-everywhere"),
  status: $("status"),
  appOrigin: $("app-origin"),
  hallpassUrl: $("hallpass-url"),
  hallpassLink: $("hallpass-link"),
};

/** Why a session ended, in words ("Your session ended: …"). */
const END_REASONS = {
  revoked: "it was ended from another device, by an administrator, or by the limit on devices.",
  expired: "it reached its time limit; log in again.",
  logout: "you logged out in another tab.",
  refresh_failed: "it expired or was revoked, and could not be renewed.",
};

let client = null;
let refreshCount = 0;
let countdownTimer = null;
let tokenSpan = 0; // the current token's whole lifetime as first seen, for the meter
let lastExpiresAt = null;

// --- hallpass URL (from ?hallpass=) --------------------------------------------------------------
function hallpassFromQuery() {
  const raw = new URLSearchParams(location.search).get("hallpass") || DEFAULT_HALLPASS;
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`?hallpass=${raw} is not a URL (try ?hallpass=${DEFAULT_HALLPASS}).`);
  }
  // Only http(s): this value decides where the page loads script from.
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`?hallpass= must be an http or https URL, not ${url.protocol}`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

// --- Views --------------------------------------------------------------------------------------
function setStatus(text) {
  ui.status.textContent = text;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

function showView(name) {
  ui.loading.hidden = name !== "loading";
  ui.loginView.hidden = name !== "login";
  ui.signedIn.hidden = name !== "signed-in";
  ui.chip.hidden = name !== "signed-in";
}

function initial(name) {
  return (name || "?").slice(0, 1).toUpperCase();
}

function renderUser(user) {
  ui.whoami.textContent = user.username;
  ui.profileAvatar.textContent = initial(user.username);
  ui.chipAvatar.textContent = initial(user.username);
  ui.chipName.textContent = user.username;
  ui.userId.textContent = user.id;
  ui.userEmail.textContent = user.email || "—";
  ui.userEmail.classList.toggle("muted", !user.email);
  ui.roles.replaceChildren();
  if (user.roles?.length) {
    for (const role of user.roles) {
      const li = document.createElement("li");
      li.className = role === "admin" ? "tag tag--accent" : "tag";
      li.textContent = role;
      ui.roles.append(li);
    }
  } else {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "none";
    ui.roles.append(li);
  }
}

function showSignedIn(user) {
  const wasSignedIn = !ui.signedIn.hidden;
  renderUser(user);
  showView("signed-in");
  ui.ended.hidden = true;
  startCountdown();
  if (!wasSignedIn) {
    ui.meResult.textContent = "Not called yet.";
    $("profile-title").setAttribute("tabindex", "-1");
    $("profile-title").focus();
  }
}

function showLogin({ focus = true } = {}) {
  stopCountdown();
  showView("login");
  ui.password.value = "";
  setBusy(ui.loginSubmit, false);
  if (focus) (ui.username.value ? ui.password : ui.username).focus();
}

// --- Token countdown (the expiry only: the token never leaves the SDK) -----------------------------
function startCountdown() {
  stopCountdown();
  tick();
}

function stopCountdown() {
  clearTimeout(countdownTimer);
  countdownTimer = null;
  lastExpiresAt = null;
  ui.countdown.textContent = "–";
  ui.meter.value = 0;
}

function tick() {
  const expiresAt = client?.expiresAt;
  if (expiresAt == null) {
    ui.countdown.textContent = "–";
    ui.meter.value = 0;
    return;
  }
  if (expiresAt !== lastExpiresAt) {
    lastExpiresAt = expiresAt;
    tokenSpan = Math.max(1, expiresAt - Date.now());
  }
  const left = Math.max(0, expiresAt - Date.now());
  const seconds = Math.ceil(left / 1000);
  ui.countdown.textContent = left > 0
    ? `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`
    : "expired (renewed on the next call)";
  ui.countdown.classList.toggle("countdown--low", seconds <= 30);
  ui.meter.value = Math.min(1, left / tokenSpan);
  // Next whole second (a chain of timeouts, so nothing runs once signed out).
  countdownTimer = setTimeout(tick, 1000 - (Date.now() % 1000) + 10);
}

// --- Errors in words ----------------------------------------------------------------------------
function describe(error, hallpass, context) {
  if (!error || typeof error !== "object") return String(error);
  switch (error.code) {
    case "network_error":
      return `Could not reach hallpass at ${hallpass}. Is it running, and is ${location.origin} in its allowed_origins?`;
    case "timeout":
      return "hallpass did not answer in time. Try again.";
    case "rate_limited":
      return `Too many attempts. Try again${error.retryAfter ? ` in ${error.retryAfter} s` : " later"}.`;
    case "temporarily_unavailable":
    case "overloaded":
      return "hallpass is busy. Try again in a moment.";
    case "invalid_grant":
      if (context === "login") {
        return /limit/i.test(error.message) ? error.message : "Wrong username or password.";
      }
      return "Your session could not be renewed.";
    case "unauthenticated":
      return "You are not signed in.";
    default:
      return error.message || "Something went wrong.";
  }
}

function setBusy(button, busy) {
  button.disabled = busy;
  if (busy) button.setAttribute("aria-busy", "true");
  else button.removeAttribute("aria-busy");
}

/** Runs an action from a button: busy while it runs, errors shown. */
async function act(button, action, hallpass, context) {
  setBusy(button, true);
  showError("");
  try {
    await action();
  } catch (error) {
    showError(describe(error, hallpass, context));
    setStatus("");
  } finally {
    setBusy(button, false);
  }
}

// --- Start --------------------------------------------------------------------------------------
async function main() {
  ui.appOrigin.textContent = location.origin;
  showView("loading");

  let hallpass;
  let sdk;
  try {
    hallpass = hallpassFromQuery();
    ui.hallpassUrl.textContent = hallpass;
    ui.hallpassLink.href = `${hallpass}/login`;
    ui.signupLink.href = `${hallpass}/signup`;
    sdk = await import(`${hallpass}/sdk/hallpass.js`);
  } catch (error) {
    ui.loading.removeAttribute("aria-busy");
    ui.loadingText.textContent = "The hallpass SDK could not be loaded.";
    ui.loading.classList.add("card--failed");
    showError(hallpass
      ? `Could not load ${hallpass}/sdk/hallpass.js: is hallpass running there? (${error.message})`
      : error.message);
    return;
  }

  client = sdk.createClient({ baseUrl: hallpass });
  // For browser tests. The client holds no token on any property, so this exposes nothing secret.
  window.hallpassDemo = { client };

  client.on("login", (user) => {
    showError("");
    showSignedIn(user);
    setStatus(`Signed in as ${user.username}.`);
  });
  client.on("refresh", ({ source }) => {
    // "broadcast": another tab refreshed and this one took its token; not this tab's refresh.
    if (source !== "broadcast") {
      refreshCount += 1;
      ui.refreshCount.textContent = String(refreshCount);
    }
    startCountdown();
  });
  client.on("logout", ({ scope }) => {
    showLogin();
    setStatus(scope === "global" ? "You logged out on every device." : "You logged out.");
  });
  client.on("session-end", ({ reason }) => {
    ui.endedReason.textContent = END_REASONS[reason] ?? `${reason}.`;
    ui.ended.hidden = false;
    showLogin({ focus: false });
    ui.ended.focus();
    setStatus("Signed out.");
  });

  ui.loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!ui.loginForm.reportValidity()) return;
    act(ui.loginSubmit, async () => {
      setStatus("Signing in…");
      await client.login(ui.username.value.trim(), ui.password.value);
      ui.password.value = "";
    }, hallpass, "login");
  });

  ui.refreshNow.addEventListener("click", () => act(ui.refreshNow, async () => {
    setStatus("Refreshing the access token…");
    await client.refresh();
    if (client.user) setStatus("Access token refreshed.");
  }, hallpass));

  ui.callMe.addEventListener("click", () => act(ui.callMe, async () => {
    setStatus("Calling /v1/me…");
    ui.meResult.setAttribute("aria-busy", "true");
    try {
      const answer = await client.me();
      ui.meResult.textContent = JSON.stringify(answer, null, 2);
      setStatus("/v1/me answered.");
      if (client.user) renderUser(client.user); // roles may have changed
    } catch (error) {
      ui.meResult.textContent = `Error ${error.status ?? ""} ${error.code ?? ""}`.trim();
      throw error;
    } finally {
      ui.meResult.removeAttribute("aria-busy");
    }
  }, hallpass));

  ui.logout.addEventListener("click", () => act(ui.logout, async () => {
    setStatus("Logging out…");
    await client.logout({ scope: "local" });
  }, hallpass));

  ui.logoutEverywhere.addEventListener("click", () => act(ui.logoutEverywhere, async () => {
    setStatus("Logging out on every device…");
    await client.logout({ scope: "global" });
  }, hallpass));

  // Social login buttons: the providers hallpass offers. loginWith() leaves for the provider
  // and comes back here, where restore() below finds the session.
  client.providers().then((providers) => {
    const list = document.getElementById("social-list");
    for (const provider of providers) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn--secondary btn--block";
      button.dataset.testid = `social-${provider.name}`;
      button.textContent = `Continue with ${provider.display_name}`;
      button.addEventListener("click", () => {
        setStatus(`Going to ${provider.display_name}…`);
        client.loginWith(provider.name, { returnTo: location.href });
      });
      item.append(button);
      list.append(item);
    }
    document.getElementById("social").hidden = providers.length === 0;
  }, () => {
    // No list, no buttons: password sign-in still works.
  });

  // Stay signed in across reloads: the refresh cookie brings the session back.
  try {
    const user = await client.restore();
    if (!user) {
      showLogin({ focus: false });
      setStatus("Not signed in.");
    }
  } catch (error) {
    showLogin({ focus: false });
    showError(describe(error, hallpass, "restore"));
    setStatus("");
  } finally {
    ui.loading.removeAttribute("aria-busy");
  }
}

main();
