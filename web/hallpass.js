// hallpass browser SDK: sign a single-page app in against hallpass, keep it signed in, call APIs
// with its access token, and hear at once when the session ends.
//
//   import { createClient } from "https://auth.example.com/sdk/hallpass.js";
//   const hp = createClient({ baseUrl: "https://auth.example.com" });
//   const user = await hp.restore() ?? await hp.login(username, password);
//   const response = await hp.fetch("https://api.example.com/orders");
//
// A plain ES module for modern browsers: no build step, no dependencies. Types: /sdk/hallpass.d.ts.
//
// Where the credentials live, and why
// -----------------------------------
// - The access token (a short-lived JWT) lives only in this module's closure: never in
//   localStorage, sessionStorage, IndexedDB, a cookie, or a property that script can read. A page
//   reload forgets it; `restore()` gets a new one.
// - The refresh token never reaches JavaScript at all. hallpass sets it as an HttpOnly cookie
//   scoped to `Path=/v1/token` (`refresh_token_delivery: "cookie"`), and rotates it on every use.
// So script injected into the page (XSS) can *use* the session while the page is open, as any
// script on the page could, but cannot *steal* it: it finds no refresh token to carry away, and
// an access token it exfiltrates dies within minutes. (Tabs of the same app share fresh access
// tokens over a BroadcastChannel message: memory to memory, same origin only, never storage.)
//
// What hallpass needs for this to work
// ------------------------------------
// - The app's origin in hallpass's `allowed_origins` (HALLPASS_ALLOWED_ORIGINS): hallpass answers
//   cross-origin API calls with CORS headers for those origins only, and accepts a cookie refresh
//   only from them.
// - The app on the same *site* as hallpass (same registrable domain, e.g. app.example.com and
//   auth.example.com; ports do not count): the refresh cookie is SameSite=Lax, so the browser
//   sends it on the app's fetch to hallpass only when the two are same-site. From another site,
//   `login()` works but `restore()` and `refresh()` do not (nor, in browsers that block
//   third-party cookies, including Safari with ITP, would a SameSite=None cookie).
//
// Requests to hallpass that carry the Bearer token go out with `credentials: "omit"`: the token
// says who is calling, so there is no reason to send hallpass's page-session cookie along (hallpass
// would ignore it). Only the token endpoint and logout include cookies: the refresh cookie is
// set, sent and cleared there.

const EVENTS = new Set(["login", "refresh", "logout", "session-end"]);
const LOGOUT_SCOPES = new Set(["local", "others", "global"]);
/** The token endpoint's grant for a mailed sign-in code (docs/email.md). */
const EMAIL_CODE_GRANT = "urn:hallpass:grant-type:email-code";
/** The token endpoint's grant that completes a sign-in answered `mfa_required` (docs/factors.md). */
const MFA_GRANT = "urn:hallpass:grant-type:mfa";

/** Refresh when less than this many seconds of the access token remain (option `refreshMargin`). */
const DEFAULT_REFRESH_MARGIN = 30;
/** A token-endpoint call that takes longer than this is abandoned (and the refresh lock freed). */
const REQUEST_TIMEOUT_MS = 15_000;
/** Without Web Locks: how long to wait for another tab's refresh before refreshing ourselves. */
const PEER_REFRESH_TIMEOUT_MS = 5_000;
/** Without Web Locks: how long to listen for a rival tab's simultaneous announcement. */
const ELECTION_WINDOW_MS = 50;
/**
 * A Web Lock can reach the next tab before the message the previous holder posted just before
 * letting go: a tab that had to wait for a lock waits up to this long for that message.
 */
const LOCK_HANDOFF_MS = 1_000;
/** A session end heard on the stream waits this long for a tab's "logout" message (better reason). */
const END_GRACE_MS = 150;
/** The scheduled refresh never fires sooner than this after being set (no tight loops). */
const MIN_TIMER_MS = 1_000;
/** The session stream reconnects after 1 s, 2 s, 4 s … up to this. */
const MAX_BACKOFF_MS = 30_000;
/** The longest a session stream's Retry-After is obeyed (a wrong header must not stop it for good). */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** A failed background refresh is retried after 2 s, 4 s … up to this. */
const MAX_REFRESH_RETRY_MS = 60_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What every failed SDK call throws: the HTTP status (0 when hallpass could not be reached),
 * the stable `code` (the problem+json `code`, or the OAuth `error` of /v1/token), and for 429 and
 * 503 the `retryAfter` seconds.
 */
export class HallpassError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number, code?: string, retryAfter?: number, body?: unknown, cause?: unknown}} [init]
   */
  constructor(message, { status = 0, code = "error", retryAfter, body, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "HallpassError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

/**
 * Creates a client for one hallpass server. Create one per page and share it.
 * @param {import("./hallpass").HallpassOptions} options
 * @returns {import("./hallpass").HallpassClient}
 */
export function createClient(options) {
  if (!options || typeof options.baseUrl !== "string") {
    throw new TypeError("createClient: `baseUrl` (hallpass's URL, e.g. https://auth.example.com) is required");
  }
  const base = options.baseUrl.replace(/\/+$/, "");
  const origin = resolveUrl(base);
  const rawFetch = options.fetch ?? globalThis.fetch.bind(globalThis); // unbound window.fetch throws
  const marginSeconds = Number.isFinite(options.refreshMargin) && options.refreshMargin >= 0
    ? options.refreshMargin
    : DEFAULT_REFRESH_MARGIN;
  const autoWatch = options.watch !== false;
  const refreshLock = options.lockName ?? `hallpass-refresh:${base}`;
  const watchLock = `hallpass-watch:${base}`;

  // --- State. `token` is the only place the access token lives. -----------------------------
  let token = null;
  let expiresAt = 0; // ms since the epoch, from Date.now() when the token was asked for
  let lifetimeMs = 0; // expires_in, for the margin of very short-lived tokens
  let sessionId = null; // the token's `sid` claim: matches cross-tab messages to our session
  let user = null;
  let epoch = 0; // bumped when a session starts or ends; late answers for an older one are dropped
  let inflight = null; // this tab's refresh in progress: concurrent callers share it
  let shared = null; // the freshest token another tab told us about (memory only)
  let refreshTimer = null;
  let refreshFailures = 0;
  let deadTokenReason = null; // set while refreshing because hallpass refused a live token
  let dueWhileHidden = false;
  let closed = false;
  let ownLogoutSid = null; // our logout() is revoking this session: its end is expected
  let peerLogout = { sid: null, until: 0 }; // another tab is logging this session out
  const listeners = new Map([...EVENTS].map((name) => [name, new Set()]));

  // --- Events -------------------------------------------------------------------------------
  function emit(name, detail) {
    for (const handler of [...listeners.get(name)]) {
      try {
        handler(detail);
      } catch (error) {
        // An app's handler must not break the client: report it like an uncaught error.
        if (typeof globalThis.reportError === "function") globalThis.reportError(error);
        else console.error(error);
      }
    }
  }

  function on(name, handler) {
    if (!EVENTS.has(name)) throw new TypeError(`hallpass: unknown event ${JSON.stringify(name)}`);
    if (typeof handler !== "function") throw new TypeError("hallpass: the handler must be a function");
    const set = listeners.get(name);
    const entry = (detail) => handler(detail); // a distinct entry, so on(x, f) twice needs two unsubscribes
    set.add(entry);
    return () => set.delete(entry);
  }

  // --- Cross-tab channel --------------------------------------------------------------------
  // Messages: {type:"refreshed", token, expiresAt, lifetimeMs, user} after every login or
  // refresh; {type:"refresh-done"} when a tab lets go of the refresh lock; {type:"logging-out",
  // sid} then {type:"logout"}; {type:"ended", sid, reason} when a tab learns that a session ended;
  // and, only where Web Locks are missing, {type:"refreshing", id} to elect one refreshing tab.
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(`hallpass:${base}`) : null;
  const peersRefreshing = new Map(); // election id → when announced
  const peerWaiters = new Set(); // resolvers of tabs waiting for a peer's refresh to finish
  let peerSignals = 0; // counts "refreshed" and "refresh-done" messages received

  function post(message) {
    if (!channel || closed) return;
    try {
      channel.postMessage(message);
    } catch {
      // A closed channel or an uncloneable user: the other tabs simply refresh on their own.
    }
  }

  function wakePeerWaiters() {
    peerSignals += 1;
    for (const wake of [...peerWaiters]) wake();
  }

  channel?.addEventListener("message", (event) => {
    const message = event.data;
    if (!message || typeof message !== "object") return;
    switch (message.type) {
      case "refreshed": {
        if (typeof message.token !== "string" || !Number.isFinite(message.expiresAt)) return;
        const next = {
          token: message.token,
          expiresAt: message.expiresAt,
          lifetimeMs: Number.isFinite(message.lifetimeMs) ? message.lifetimeMs : 0,
          user: message.user && typeof message.user === "object" ? message.user : null,
        };
        if (!shared || next.expiresAt > shared.expiresAt) shared = next;
        wakePeerWaiters();
        // A signed-in tab takes the newer token at once, so that its own timer does not fire
        // and rotate again. A signed-out tab keeps it for restore(): signing in is the app's
        // decision. While this tab refreshes itself, its refresh adopts it (inside the lock).
        if (token !== null && !inflight && next.user && next.expiresAt > expiresAt && isFresh(next)) {
          adopt(next, "broadcast");
        }
        return;
      }
      case "logging-out":
        // The revocation may reach us (stream, failed refresh) before the "logout" message.
        if (typeof message.sid === "string") peerLogout = { sid: message.sid, until: Date.now() + 10_000 };
        return;
      case "logout":
        shared = null;
        if (token !== null || user !== null) {
          forget();
          emit("session-end", { reason: "logout" });
        }
        return;
      case "ended":
        if (shared && claimsOf(shared.token).sid === message.sid) shared = null;
        if (token !== null && message.sid && message.sid === sessionId) {
          endSession(typeof message.reason === "string" ? message.reason : "revoked", message.sid);
        }
        return;
      case "refreshing":
        if (typeof message.id === "number") peersRefreshing.set(message.id, Date.now());
        return;
      case "refresh-done":
        peersRefreshing.delete(message.id);
        wakePeerWaiters();
        return;
      default:
    }
  });

  // --- Session state ------------------------------------------------------------------------
  function marginFor(lifetime) {
    // With a token that lives less than twice the margin (a test server with a 10 s TTL, say),
    // refresh at half its life instead: otherwise every fresh token would already be "due".
    return Math.min(marginSeconds * 1000, lifetime > 0 ? lifetime / 2 : marginSeconds * 1000);
  }

  function isFresh(t = { expiresAt, lifetimeMs }) {
    return t.expiresAt - Date.now() > marginFor(t.lifetimeMs);
  }

  /** Makes `next` ({token, expiresAt, lifetimeMs, user}) the current session; says whether the user changed. */
  function install(next) {
    const previousUser = user;
    const previousSid = sessionId;
    token = next.token;
    expiresAt = next.expiresAt;
    lifetimeMs = next.lifetimeMs;
    user = next.user;
    sessionId = claimsOf(next.token).sid ?? null;
    if (!shared || expiresAt >= shared.expiresAt) shared = null; // ours is the freshest now
    refreshFailures = 0;
    dueWhileHidden = false;
    scheduleRefresh();
    if (previousSid !== null && previousSid !== sessionId) resubscribe();
    ensureWatch();
    return { userChanged: !previousUser || previousUser.id !== user?.id };
  }

  /** Takes a token another tab obtained. */
  function adopt(next, source) {
    const { userChanged } = install(next);
    if (userChanged) emit("login", user);
    else emit("refresh", { expiresAt, source });
  }

  /** Drops the session from memory and stops its background work. */
  function forget() {
    token = null;
    expiresAt = 0;
    lifetimeMs = 0;
    sessionId = null;
    user = null;
    shared = null;
    epoch += 1;
    clearTimeout(refreshTimer);
    refreshTimer = null;
    stopWatchRun();
  }

  /**
   * The session is over (revoked, refresh refused): forget it and tell the app, once. Returns
   * false, doing nothing, when it is our own logout() that ended it (logout() finishes the job
   * and emits "logout" instead of "session-end").
   */
  function endSession(reason, sid = sessionId) {
    if (sid !== null && sid === ownLogoutSid) return false;
    if (sid !== null && sid === peerLogout.sid && Date.now() < peerLogout.until) reason = "logout";
    const had = token !== null || user !== null;
    forget();
    if (had) emit("session-end", { reason });
    return true;
  }

  // --- Requests -----------------------------------------------------------------------------
  /** fetch with a time limit; network failures become HallpassError(status 0). */
  async function call(path, init) {
    const timer = timeoutSignal(REQUEST_TIMEOUT_MS);
    let response;
    try {
      response = await rawFetch(`${base}${path}`, { mode: "cors", cache: "no-store", ...init, signal: timer.signal });
      if (!response.ok) throw await errorFromResponse(response);
      return await readJson(response);
    } catch (error) {
      throw asHallpassError(error, timer.signal);
    } finally {
      timer.clear();
    }
  }

  /** POST /v1/token with a JSON body; the refresh cookie comes and goes with `credentials: "include"`. */
  async function tokenRequest(body) {
    const started = Date.now(); // expiry counts from before the request: errs on the early side
    const answer = await call("/v1/token", {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    if (!answer || typeof answer.access_token !== "string" || !Number.isFinite(answer.expires_in)) {
      throw new HallpassError("hallpass sent an unexpected token response", { status: 200, code: "invalid_response" });
    }
    const lifetime = answer.expires_in * 1000;
    return { token: answer.access_token, expiresAt: started + lifetime, lifetimeMs: lifetime };
  }

  /** GET /v1/me with a given token (the token response names no user). */
  function fetchMe(withToken) {
    return call("/v1/me", {
      credentials: "omit",
      headers: { authorization: `Bearer ${withToken}`, accept: "application/json" },
    });
  }

  // --- Login --------------------------------------------------------------------------------
  /**
   * Signs in with a password. For an account with a second factor this rejects with a
   * HallpassError whose `code` is "mfa_required", carrying `mfaToken` and `methods`: finish
   * with `completeMfa(error.mfaToken, { code })`.
   */
  async function login(username, password) {
    try {
      return await signIn({ grant_type: "password", username, password });
    } catch (error) {
      throw withMfa(error);
    }
  }

  /** The second step of a sign-in: `{ code }` from the authenticator app, or `{ recoveryCode }`. */
  function completeMfa(mfaToken, { code, recoveryCode } = {}) {
    const proof = recoveryCode !== undefined ? { recovery_code: recoveryCode } : { code };
    return signIn({ grant_type: MFA_GRANT, mfa_token: mfaToken, ...proof });
  }

  /** A token request that starts a session: the refresh token goes into the HttpOnly cookie. */
  async function signIn(grant) {
    epoch += 1; // a refresh still in flight belongs to the session this login replaces
    const next = await tokenRequest({ ...grant, refresh_token_delivery: "cookie" });
    next.user = (await fetchMe(next.token)).user;
    epoch += 1;
    install(next);
    post({ type: "refreshed", ...next });
    emit("login", user);
    return user;
  }

  /**
   * Signs in with a code (or the link's `token`) that `requestEmailCode()` had mailed: the same
   * session as `login()` gives, through the token endpoint's email-code grant. Needs hallpass's
   * `[email] passwordless_login`. Pass `{ email, code }` or `{ token }`.
   */
  async function loginWithEmailCode(proof) {
    const { email, code, token: linkToken } = proof ?? {};
    try {
      return await signIn({ grant_type: EMAIL_CODE_GRANT, ...(linkToken !== undefined ? { token: linkToken } : { email, code }) });
    } catch (error) {
      throw withMfa(error);
    }
  }

  // --- Second factors (the signed-in user's) ------------------------------------------------
  /** A JSON call to hallpass with the access token; resolves with the answer's JSON, if any. */
  async function authJson(method, path, body) {
    let response;
    try {
      response = await authFetch(`${base}${path}`, {
        method,
        headers: { "content-type": "application/json", accept: "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw asHallpassError(error);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return readJson(response);
  }

  /** `{ factors: [{id, kind, name, created_at, last_used_at}], recovery_codes_left }`. */
  function factors() {
    return authJson("GET", "/v1/factors");
  }

  /**
   * Starts adding an authenticator app: `{ id, secret, otpauth_uri, qr_svg }` to show the user.
   * `currentPassword` is needed unless the user signed in within the last 10 minutes.
   */
  function startTotp({ name, currentPassword } = {}) {
    return authJson("POST", "/v1/factors/totp", { name, current_password: currentPassword ?? "" });
  }

  /** Confirms the app with a code from it: `{ recovery_codes }` (shown once; empty for a second app). */
  function confirmTotp(code) {
    return authJson("POST", "/v1/factors/totp/confirm", { code });
  }

  /** Removes a factor. */
  async function removeFactor(id, { currentPassword } = {}) {
    await authJson("DELETE", `/v1/factors/${encodeURIComponent(id)}`, { current_password: currentPassword ?? "" });
  }

  /** A new set of recovery codes in place of the old: `{ recovery_codes }`. */
  function regenerateRecoveryCodes({ currentPassword } = {}) {
    return authJson("POST", "/v1/factors/recovery-codes", { current_password: currentPassword ?? "" });
  }

  // --- Email: recovery, verification, sign-in codes -----------------------------------------
  // Each answers alike whether or not an account matches (nothing to learn from them) and
  // resolves with nothing; a refused request throws a HallpassError (`invalid_token`,
  // `rate_limited`, `validation_failed`, ...).

  /** POST a JSON body to hallpass without credentials; resolves with the JSON answer, if any. */
  function postJson(path, body) {
    return call(path, {
      method: "POST",
      credentials: "omit",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
  }

  /** Mails a password reset link to the account's verified address (`login`: username or email). */
  async function forgotPassword(login) {
    await postJson("/v1/password/forgot", { login });
  }

  /**
   * Sets a new password with the reset link's `token` (the `token` query parameter of the link
   * hallpass mailed). Every session of the account ends, this tab's included.
   */
  async function resetPassword(resetToken, newPassword) {
    await postJson("/v1/password/reset", { token: resetToken, new_password: newPassword });
  }

  /** Proves an address: the link's `token` (a string), or `{ login, code }` from the mail. */
  async function verifyEmail(proof) {
    await postJson("/v1/email/verify", typeof proof === "string" ? { token: proof } : { login: proof?.login, code: proof?.code });
  }

  /** Mails the verification link again (rate-limited per address). */
  async function resendVerification(login) {
    await postJson("/v1/email/verify/resend", { login });
  }

  /**
   * Asks to change the signed-in account's address: hallpass mails a confirmation to `email`, and
   * the change takes effect when it is followed (`verifyEmail`). Needs the current password.
   */
  async function changeEmail(email, currentPassword) {
    let response;
    try {
      response = await authFetch(`${base}/v1/email`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ email, current_password: currentPassword }),
      });
    } catch (error) {
      throw asHallpassError(error);
    }
    if (!response.ok) throw await errorFromResponse(response);
  }

  /** Mails a sign-in code and link to `email` if it is an account's verified address. */
  async function requestEmailCode(email) {
    await postJson("/v1/login/email", { email });
  }

  /**
   * Signs in with a social login provider configured in hallpass (`[providers.NAME]`): the
   * browser goes to the provider and comes back to `returnTo` (default: this page), where
   * `restore()` picks the session up from the refresh cookie. No token is ever put in a URL.
   * `returnTo`'s origin must be in hallpass's `allowed_origins`.
   */
  function loginWith(provider, { returnTo } = {}) {
    const back = returnTo ?? globalThis.location?.href;
    if (typeof back !== "string") throw new TypeError("hallpass: loginWith needs a returnTo URL here");
    const url = new URL(`${base}/v1/oauth/${encodeURIComponent(provider)}/authorize`);
    url.searchParams.set("mode", "token");
    url.searchParams.set("return_to", back);
    globalThis.location.assign(url.toString());
  }

  /** The social login providers hallpass offers: `[{name, display_name}]`. */
  async function providers() {
    let response;
    try {
      response = await rawFetch(`${base}/v1/oauth/providers`, {
        mode: "cors",
        credentials: "omit",
        headers: { accept: "application/json" },
      });
    } catch (error) {
      throw asHallpassError(error);
    }
    if (!response.ok) throw await errorFromResponse(response);
    const answer = await readJson(response);
    return Array.isArray(answer?.providers) ? answer.providers : [];
  }

  // --- Refresh ------------------------------------------------------------------------------
  // One refresh at a time across tabs. hallpass already tolerates a replay of the previous
  // refresh token for `refresh_grace` (10 s): two tabs racing both get the same successor, so
  // nobody is logged out. The lock is about not wasting rotations (and requests), not about
  // correctness: with it, N tabs cost one rotation per token lifetime instead of N.
  function refresh() {
    if (!inflight) {
      const before = token !== null ? expiresAt : 0;
      inflight = exclusive(() => refreshInLock(before)).finally(() => {
        inflight = null;
      });
    }
    return inflight;
  }

  async function refreshInLock(before) {
    // Inside the lock, first: did another tab refresh while we waited? Its token came over the
    // channel; if it is newer than what we held and still fresh, it is as good as our own.
    const candidate = shared;
    if (candidate && candidate.user && candidate.expiresAt > before && candidate.expiresAt > expiresAt && isFresh(candidate)) {
      const { userChanged } = install(candidate);
      if (userChanged) emit("login", user);
      else emit("refresh", { expiresAt, source: "tab" });
      return;
    }
    await networkRefresh();
  }

  async function networkRefresh() {
    const started = epoch;
    let next;
    try {
      next = await tokenRequest({ grant_type: "refresh_token", refresh_token_delivery: "cookie" });
    } catch (error) {
      // invalid_grant: the refresh token is dead (revoked, expired, replayed). invalid_request:
      // no refresh cookie at all (logged out, or never logged in). Either way no session.
      const over = (error.status === 400 || error.status === 401)
        && (error.code === "invalid_grant" || error.code === "invalid_request");
      if (over && started === epoch) {
        const sid = sessionId;
        const reason = deadTokenReason ?? "refresh_failed";
        // The cookie is shared by every tab: so is the end.
        if (endSession(reason) && sid) post({ type: "ended", sid, reason });
      }
      throw error;
    }
    if (started !== epoch) return; // logged out or in meanwhile: this answer belongs to nothing
    // Same user as before (the usual case)? Then no need to ask who it is.
    next.user = user && claimsOf(next.token).sub === user.id ? user : (await fetchMe(next.token)).user;
    if (started !== epoch) return;
    const { userChanged } = install(next);
    post({ type: "refreshed", ...next });
    if (userChanged) emit("login", user); // restore(): a session appeared
    else emit("refresh", { expiresAt, source: "network" });
  }

  /** Runs `task` while no other tab of this app (same baseUrl) runs its own. */
  function exclusive(task) {
    const locks = webLocks();
    if (!locks) return electedRun(task);
    const seen = peerSignals;
    return lockRun(locks, refreshLock, null, async (contended) => {
      // Another tab held the lock, so it was refreshing: its "refreshed" message was posted
      // before it let go but may still be on its way. Wait for it (briefly) before looking.
      if (contended && peerSignals === seen) await waitForPeer(LOCK_HANDOFF_MS);
      try {
        return await task();
      } finally {
        post({ type: "refresh-done" });
      }
    });
  }

  // Without Web Locks (old browsers): a small election over the channel. Announce, listen a
  // moment for a rival (the lower random id wins); the loser waits for the winner's "refreshed"
  // (up to 5 s) and then runs the task, which adopts the winner's token or refreshes itself.
  async function electedRun(task) {
    if (!channel || closed) return task();
    const now = Date.now();
    for (const [id, at] of peersRefreshing) if (now - at > PEER_REFRESH_TIMEOUT_MS) peersRefreshing.delete(id);
    if (peersRefreshing.size === 0) {
      const id = Math.random();
      post({ type: "refreshing", id });
      await sleep(ELECTION_WINDOW_MS);
      if (![...peersRefreshing.keys()].some((other) => other < id)) {
        try {
          return await task();
        } finally {
          post({ type: "refresh-done", id });
        }
      }
    }
    await waitForPeer(PEER_REFRESH_TIMEOUT_MS);
    return task();
  }

  function waitForPeer(ms) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        peerWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      peerWaiters.add(done);
    });
  }

  // --- Scheduled refresh (a timeout, never an interval; only while the page is visible) -------
  function scheduleRefresh(delay) {
    clearTimeout(refreshTimer);
    refreshTimer = null;
    if (token === null || closed) return;
    const due = delay ?? Math.max(MIN_TIMER_MS, expiresAt - marginFor(lifetimeMs) - Date.now());
    refreshTimer = setTimeout(onRefreshTimer, Math.min(due, MAX_TIMER_MS));
  }

  function onRefreshTimer() {
    refreshTimer = null;
    if (token === null || closed) return;
    if (isHidden()) {
      // A hidden tab does not refresh on its own: a visible tab will (and share the token), or
      // this one will when it is shown again or makes a request.
      dueWhileHidden = true;
      return;
    }
    backgroundRefresh();
  }

  function backgroundRefresh() {
    refresh().catch((error) => {
      if (token === null) return; // the session ended: session-end was emitted
      // A transient failure (network, 429, 5xx): try again later; the token may still be valid.
      refreshFailures += 1;
      const backoff = Math.min(MAX_REFRESH_RETRY_MS, 2000 * 2 ** (refreshFailures - 1));
      scheduleRefresh(error?.retryAfter ? Math.max(error.retryAfter * 1000, MIN_TIMER_MS) : backoff);
    });
  }

  function isHidden() {
    return typeof document !== "undefined" && document.visibilityState === "hidden";
  }

  function onVisibilityChange() {
    if (isHidden() || token === null || closed) return;
    if (dueWhileHidden || !isFresh()) {
      dueWhileHidden = false;
      backgroundRefresh();
    }
  }
  if (typeof document !== "undefined") document.addEventListener("visibilitychange", onVisibilityChange);

  // --- Restore ------------------------------------------------------------------------------
  async function restore() {
    if (inflight) await inflight.catch(() => {});
    if (token !== null && isFresh()) return user;
    try {
      await refresh();
    } catch (error) {
      // No cookie, or a dead one: not signed in.
      if (error instanceof HallpassError && (error.status === 400 || error.status === 401)) return null;
      // A passing failure (network, 429, 5xx) with a token that still works: carry on with it.
      if (token !== null && expiresAt > Date.now()) return user;
      throw error;
    }
    return user;
  }

  // --- Authenticated fetch ------------------------------------------------------------------
  async function authFetch(input, init) {
    if (inflight) await inflight.catch(() => {});
    if (token !== null && !isFresh()) {
      // Refresh ahead of expiry. If that fails for a passing reason, the old token is tried
      // anyway (it may still be valid); if it failed because the session is over, stop here.
      await refresh().catch(() => {});
    }
    if (token === null) {
      throw new HallpassError("not signed in", { status: 401, code: "unauthenticated" });
    }
    const request = new Request(input, init);
    // Our own Bearer calls to hallpass carry no cookies (see the header comment), unless the
    // caller chose otherwise.
    const omitCookies = init?.credentials === undefined && !(input instanceof Request) && isHallpassUrl(request.url);
    const send = (withToken) => {
      const copy = request.clone(); // keep `request` unread for the retry
      const headers = new Headers(copy.headers);
      headers.set("authorization", `Bearer ${withToken}`);
      return rawFetch(new Request(copy, omitCookies ? { headers, credentials: "omit" } : { headers }));
    };
    const sent = token;
    const response = await send(sent);
    if (response.status !== 401) return response;
    // Once: refresh (unless a concurrent call already did) and retry.
    if (token === sent) await refresh().catch(() => {});
    if (token === null || token === sent) return response;
    response.body?.cancel().catch(() => {});
    return send(token);
  }

  function isHallpassUrl(url) {
    return url === origin || url.startsWith(`${origin}/`) || url.startsWith(`${origin}?`);
  }

  async function me() {
    let response;
    try {
      response = await authFetch(`${base}/v1/me`, { headers: { accept: "application/json" } });
    } catch (error) {
      throw asHallpassError(error);
    }
    if (!response.ok) throw await errorFromResponse(response);
    const answer = await readJson(response);
    // Roles or e-mail may have changed since sign-in.
    if (answer?.user && user && answer.user.id === user.id) user = answer.user;
    return answer;
  }

  // --- Logout -------------------------------------------------------------------------------
  async function logout({ scope = "local" } = {}) {
    if (!LOGOUT_SCOPES.has(scope)) throw new TypeError(`hallpass: unknown logout scope ${JSON.stringify(scope)}`);
    if (inflight) await inflight.catch(() => {});
    if (token !== null && expiresAt - Date.now() < 5000) await refresh().catch(() => {});
    let result = { revoked_sessions: 0 };
    let failure = null;
    const endsThisSession = scope !== "others";
    if (token !== null && endsThisSession) {
      // Our stream (or another tab's) will hear of the revocation, maybe before our answer does.
      ownLogoutSid = sessionId;
      post({ type: "logging-out", sid: sessionId });
    }
    if (token !== null) {
      const timer = timeoutSignal(REQUEST_TIMEOUT_MS);
      const request = () => rawFetch(`${base}/v1/logout`, {
        method: "POST",
        mode: "cors",
        // "include" so that the browser applies the answer's Set-Cookie clearing the refresh cookie.
        credentials: "include",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ scope }),
        signal: timer.signal,
      });
      try {
        const response = await request();
        if (response.ok) {
          const answer = await readJson(response).catch(() => null);
          if (answer && typeof answer === "object") result = answer;
        } else if (response.status !== 401) {
          // 401: the session was already gone, which is what we wanted.
          failure = await errorFromResponse(response);
        }
      } catch (error) {
        failure = asHallpassError(error, timer.signal);
      } finally {
        timer.clear();
      }
    }
    if (!endsThisSession) {
      // This session (and so every tab of it) stays signed in.
      if (failure) throw failure;
      return result;
    }
    // Forget the session here even if hallpass could not be told: the user asked to leave.
    forget();
    ownLogoutSid = null;
    post({ type: "logout" });
    emit("logout", { scope });
    if (failure) throw failure;
    return result;
  }

  // --- Session events (server-sent events read with fetch) ----------------------------------
  // EventSource cannot send an Authorization header, so the stream is read with fetch. Where
  // Web Locks exist, only one tab per browser holds the stream (a second lock elects it; when
  // that tab closes, the next one takes over) and tells the others over the channel: browsers
  // allow only 6 connections per host over HTTP/1.1, and a stream per tab would use them up.
  let watching = false; // the app wants the stream
  let watchRun = null; // the running (or lock-waiting) watcher
  let watchAbort = null; // stops that watcher
  let connAbort = null; // stops the current connection only
  let resubscribing = false;
  let wakeBackoff = null;

  function watchSession() {
    if (closed) return () => {};
    watching = true;
    ensureWatch();
    return () => {
      watching = false;
      stopWatchRun();
    };
  }

  function ensureWatch() {
    if (!watching || closed || token === null || watchRun) return;
    if (ownLogoutSid !== null && ownLogoutSid === sessionId) return; // on its way out
    const stop = new AbortController();
    watchAbort = stop;
    const locks = webLocks();
    const task = locks
      ? lockRun(locks, watchLock, stop.signal, async (contended) => {
        // Taking over from a tab that just stopped watching: perhaps because the session ended
        // (its message may still be on its way) or it logged out. Let those messages land first.
        if (contended) await sleep(LOCK_HANDOFF_MS / 4);
        return watchLoop(stop.signal);
      })
      : watchLoop(stop.signal);
    const current = task.catch(() => {}).finally(() => {
      if (watchRun === current) watchRun = null;
      if (watchAbort === stop) watchAbort = null;
      // A new session may have started while this run wound down.
      if (!stop.signal.aborted) ensureWatch();
    });
    watchRun = current;
  }

  function stopWatchRun() {
    watchAbort?.abort();
    watchAbort = null;
    watchRun = null;
    connAbort?.abort();
    connAbort = null;
  }

  /** The session changed under a running stream: reconnect with the new token at once. */
  function resubscribe() {
    if (!connAbort) return;
    resubscribing = true;
    connAbort.abort();
  }

  async function watchLoop(stop) {
    let failures = 0;
    let refreshedAfter401 = false;
    while (!stop.aborted && token !== null) {
      let retryAfterMs = 0; // a 429 or 503 says when to come back: never sooner
      const conn = new AbortController();
      connAbort = conn;
      const onStop = () => conn.abort();
      stop.addEventListener("abort", onStop, { once: true });
      try {
        if (!isFresh()) await refresh().catch(() => {}); // an expired token would only be refused
        if (token === null || stop.aborted) break;
        const sid = sessionId;
        const response = await rawFetch(`${base}/v1/session/events`, {
          mode: "cors",
          credentials: "omit",
          cache: "no-store",
          headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
          signal: conn.signal,
        });
        if (response.status === 401) {
          response.body?.cancel().catch(() => {});
          if (refreshedAfter401) {
            // Refused again with a token just refreshed: the session is gone.
            if (endSession("revoked", sid) && sid) post({ type: "ended", sid, reason: "revoked" });
            break;
          }
          refreshedAfter401 = true;
          deadTokenReason = "revoked"; // a live token refused: if the refresh fails too, it was revoked
          try {
            await refresh(); // fails with session-end if the refresh token is dead too
            continue;
          } catch {
            if (token === null) break;
            // A passing failure (network): back off below and try again.
          } finally {
            deadTokenReason = null;
          }
        } else if (response.ok && response.body) {
          const ended = await readSessionStream(response.body, () => {
            failures = 0; // connected: the next drop starts the backoff again at 1 s
            refreshedAfter401 = false;
          });
          if (ended && sessionId === sid && token !== null) {
            // If another tab is logging out, its message says so better than "revoked": give it
            // a moment to arrive (the revocation can outrun it). Our own logout needs no wait.
            if (sid !== ownLogoutSid) await sleep(END_GRACE_MS);
            if (sessionId === sid && endSession(ended.reason, sid)) post({ type: "ended", sid, reason: ended.reason });
            break;
          }
          // Otherwise the stream just closed (server restart, proxy timeout): reconnect.
        } else {
          // 429: this session or user holds as many streams as allowed; 503: the server does.
          const seconds = parseRetryAfter(response.headers.get("retry-after"));
          if (seconds) retryAfterMs = Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
          response.body?.cancel().catch(() => {});
        }
      } catch {
        // Network failure, or aborted (stop, or resubscribe).
      } finally {
        stop.removeEventListener("abort", onStop);
        if (connAbort === conn) connAbort = null;
      }
      if (stop.aborted || token === null) break;
      if (resubscribing) {
        resubscribing = false;
        failures = 0;
        continue;
      }
      failures += 1;
      await backoff(failures, stop, retryAfterMs);
    }
  }

  function backoff(failures, stop, atLeastMs = 0) {
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1));
    // Jitter, so clients do not all return at once; never sooner than the server asked.
    const ms = Math.max(base * (0.8 + Math.random() * 0.4), atLeastMs * (1 + Math.random() * 0.2));
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stop.removeEventListener("abort", done);
        if (wakeBackoff === done) wakeBackoff = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      stop.addEventListener("abort", done, { once: true });
      wakeBackoff = done; // the browser coming back online cuts the wait short
    });
  }

  function onOnline() {
    wakeBackoff?.();
  }
  if (typeof addEventListener === "function") globalThis.addEventListener("online", onOnline);

  /**
   * Reads a session event stream until it ends. Resolves {reason} on `event: ended`, null when
   * the stream closes without one. `onOpen` runs on the `session` event.
   */
  async function readSessionStream(body, onOpen) {
    let ended = null;
    const parser = sseParser((event) => {
      if (event.event === "session") onOpen();
      else if (event.event === "ended") {
        let reason = "revoked";
        try {
          const data = JSON.parse(event.data);
          if (typeof data?.reason === "string" && data.reason) reason = data.reason;
        } catch {
          // Keep "revoked".
        }
        ended = { reason };
      }
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    try {
      while (!ended) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    return ended;
  }

  // --- Closing ------------------------------------------------------------------------------
  function close() {
    if (closed) return;
    watching = false;
    stopWatchRun();
    clearTimeout(refreshTimer);
    refreshTimer = null;
    wakePeerWaiters();
    closed = true;
    if (typeof document !== "undefined") document.removeEventListener("visibilitychange", onVisibilityChange);
    if (typeof removeEventListener === "function") globalThis.removeEventListener("online", onOnline);
    channel?.close();
  }

  // login() and restore() start the stream; ensureWatch() waits until there is a session.
  if (autoWatch) watching = true;

  return Object.freeze({
    login,
    completeMfa,
    loginWithEmailCode,
    requestEmailCode,
    forgotPassword,
    resetPassword,
    verifyEmail,
    resendVerification,
    changeEmail,
    factors,
    startTotp,
    confirmTotp,
    removeFactor,
    regenerateRecoveryCodes,
    loginWith,
    providers,
    restore,
    refresh: () => refresh().then(() => undefined),
    fetch: authFetch,
    me,
    logout,
    on,
    watchSession,
    close,
    get user() {
      return user;
    },
    get expiresAt() {
      return token === null ? null : expiresAt;
    },
    get baseUrl() {
      return base;
    },
  });
}

// --- Helpers ----------------------------------------------------------------------------------

function webLocks() {
  const locks = globalThis.navigator?.locks;
  return locks && typeof locks.request === "function" ? locks : null;
}

/**
 * Runs `task(contended)` holding the Web Lock `name`; `contended` says whether another tab held
 * it when we asked (a first try with `ifAvailable` tells, which cannot take a signal).
 */
async function lockRun(locks, name, signal, task) {
  const first = await locks.request(name, { ifAvailable: true }, async (lock) => (lock ? { value: await task(false) } : null));
  if (first) return first.value;
  return locks.request(name, signal ? { signal } : {}, () => task(true));
}

/** An absolute URL without a trailing slash (relative base URLs resolve against the page). */
function resolveUrl(url) {
  try {
    const href = typeof location !== "undefined" ? new URL(url || "/", location.href).href : new URL(url).href;
    return href.replace(/\/+$/, "");
  } catch {
    throw new TypeError(`createClient: baseUrl ${JSON.stringify(url)} is not a URL`);
  }
}

/**
 * The claims of a JWT, unverified: used only to recognise which session and user a token is
 * for (hallpass verifies tokens; nothing here trusts them).
 */
function claimsOf(jwt) {
  try {
    const part = jwt.split(".")[1];
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((part.length + 3) % 4);
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : {};
  } catch {
    return {};
  }
}

/**
 * A parser for the text/event-stream format: `event:` and `data:` fields, a blank line ends an
 * event, lines starting with `:` are comments; CRLF, LF and CR line ends.
 */
function sseParser(onEvent) {
  let buffer = "";
  let type = "";
  let data = null;
  const line = (text) => {
    if (text === "") {
      if (data !== null) onEvent({ event: type || "message", data });
      type = "";
      data = null;
      return;
    }
    if (text[0] === ":") return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "event") type = value;
    else if (field === "data") data = data === null ? value : `${data}\n${value}`;
    // id and retry do not matter here: the SDK reconnects on its own schedule.
  };
  return {
    push(chunk) {
      buffer += chunk;
      let start = 0;
      for (let i = 0; i < buffer.length; i += 1) {
        const c = buffer[i];
        if (c !== "\n" && c !== "\r") continue;
        if (c === "\r" && i === buffer.length - 1) break; // maybe CR LF split across chunks
        line(buffer.slice(start, i));
        if (c === "\r" && buffer[i + 1] === "\n") i += 1;
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
  };
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new HallpassError("hallpass sent a body that is not JSON", { status: response.status, code: "invalid_response", cause });
  }
}

/** A HallpassError from a failed answer: problem+json (`code`) or OAuth (`error`). */
async function errorFromResponse(response) {
  let body;
  try {
    const text = await response.text();
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const fields = body && typeof body === "object" ? body : {};
  const code = typeof fields.code === "string" ? fields.code
    : typeof fields.error === "string" ? fields.error
    : fallbackCode(response.status);
  const message = fields.detail || fields.error_description || fields.title || `hallpass answered ${response.status}`;
  return new HallpassError(String(message), {
    status: response.status,
    code,
    retryAfter: parseRetryAfter(response.headers.get("retry-after")),
    body,
  });
}

/** A HallpassError `mfa_required` with the challenge on it (`mfaToken`, `methods`). */
function withMfa(error) {
  if (error instanceof HallpassError && error.code === "mfa_required") {
    error.mfaToken = error.body?.mfa_token;
    error.methods = error.body?.methods ?? [];
  }
  return error;
}

function fallbackCode(status) {
  switch (status) {
    case 401: return "unauthenticated";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 429: return "rate_limited";
    case 503: return "overloaded";
    default: return status >= 500 ? "server_error" : "http_error";
  }
}

/** Retry-After in seconds: delta-seconds or an HTTP date. */
function parseRetryAfter(value) {
  if (value == null || value.trim() === "") return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function asHallpassError(error, timeout) {
  if (error instanceof HallpassError) return error;
  if (timeout?.aborted && timeout.reason?.name === "TimeoutError") {
    return new HallpassError("hallpass did not answer in time", { status: 0, code: "timeout", cause: error });
  }
  if (error?.name === "AbortError") return new HallpassError("the request was aborted", { status: 0, code: "aborted", cause: error });
  return new HallpassError("could not reach hallpass (network error, or this origin is not in its allowed_origins)", {
    status: 0,
    code: "network_error",
    cause: error,
  });
}

function timeoutSignal(ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("hallpass did not answer in time", "TimeoutError")), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
