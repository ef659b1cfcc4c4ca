// Type declarations for the hallpass browser SDK (/sdk/hallpass.js).
//
//   import { createClient } from "https://auth.example.com/sdk/hallpass.js";
//
// To type-check an app that imports the SDK from hallpass's URL, map that URL to this file, e.g.
// in tsconfig.json: "paths": { "https://auth.example.com/sdk/hallpass.js": ["./types/hallpass.d.ts"] },
// or declare the module: `declare module "https://auth.example.com/sdk/hallpass.js" { export * from "./hallpass"; }`.

/** A hallpass user, as `/v1/me` returns it. */
export interface User {
  /** UUID. */
  id: string;
  username: string;
  email: string | null;
  /** Whether the owner proved `email` by following a mailed link or code. */
  email_verified: boolean;
  /** `[]` for a plain user, `["admin"]` for an administrator. */
  roles: string[];
  /** RFC 3339. */
  created_at: string;
}

/** A second factor, as `factors()` lists it. */
export interface Factor {
  id: string;
  kind: "totp" | "passkey";
  name: string;
  /** RFC 3339. */
  created_at: string;
  last_used_at: string | null;
}

/** A hallpass session (one device's sign-in), as `/v1/me` returns it. */
export interface Session {
  /** UUID: a public handle, not a secret. */
  id: string;
  /** `"token"` for sessions made through the SDK; `"cookie"` for hallpass's own pages. */
  kind: "cookie" | "token";
  /** RFC 3339. */
  created_at: string;
  /** RFC 3339. */
  last_seen_at: string;
  /** RFC 3339: when the session ends at the latest. */
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
  /** True for the session making the request. */
  current: boolean;
  /** How the sign-in was made: RFC 8176 values, e.g. `["pwd"]`, `["pwd", "otp", "mfa"]`. */
  amr: string[];
  /** When the user last authenticated for this session (RFC 3339). */
  auth_time: string;
}

/** What `me()` resolves to: `GET /v1/me`. */
export interface MeResponse {
  user: User;
  session: Session;
}

export interface HallpassOptions {
  /** hallpass's public URL, e.g. `"https://auth.example.com"` (no trailing slash needed). */
  baseUrl: string;
  /** A fetch to use instead of the global one (tests, instrumentation). */
  fetch?: typeof fetch;
  /**
   * Refresh the access token when fewer than this many seconds remain (default 30). With
   * tokens living less than twice this, the SDK refreshes at half their life instead.
   */
  refreshMargin?: number;
  /** Name of the Web Lock that serialises refreshes across tabs (default `"hallpass-refresh:" + baseUrl`). */
  lockName?: string;
  /**
   * Watch the session for revocation (`GET /v1/session/events`) as soon as `login()` or
   * `restore()` succeeds (default true). With false, call `watchSession()` yourself.
   */
  watch?: boolean;
}

/** `"local"`: this session; `"others"`: every other session of the user; `"global"`: all of them. */
export type LogoutScope = "local" | "others" | "global";

export interface LogoutResult {
  /** How many sessions hallpass revoked. */
  revoked_sessions: number;
}

/**
 * Why a session ended without this tab's `logout()`:
 * - `"revoked"`: hallpass revoked it (logged out from another device, evicted by the session
 *   limit, forced out by an administrator, user disabled or deleted);
 * - `"logout"`: another tab of this app logged out;
 * - `"refresh_failed"`: the refresh token was refused (expired, revoked, no cookie).
 */
export type SessionEndReason = "revoked" | "expired" | "logout" | "refresh_failed" | (string & {});

/**
 * Where a new access token came from: `"network"`, this tab refreshed it; `"tab"`, this tab's
 * refresh found one another tab had just obtained; `"broadcast"`, another tab refreshed and this
 * tab took the newer token without asking.
 */
export type RefreshSource = "network" | "tab" | "broadcast";

export interface RefreshEvent {
  /** When the new access token expires, in milliseconds since the epoch. */
  expiresAt: number;
  source: RefreshSource;
}

export interface LogoutEvent {
  scope: LogoutScope;
}

export interface SessionEndEvent {
  reason: SessionEndReason;
}

/** The events a client emits, and what their handlers receive. */
export interface HallpassEventMap {
  /** A user became signed in in this client: `login()`, `restore()`, or a sign-in shared by another tab. */
  login: User;
  /** The access token of the current session was renewed (not emitted by `restore()`, which emits `login`). */
  refresh: RefreshEvent;
  /** This client's `logout()` ended the session (scope `"local"` or `"global"`). */
  logout: LogoutEvent;
  /** The session ended by some other cause (see {@link SessionEndReason}). */
  "session-end": SessionEndEvent;
}

export type HallpassEventName = keyof HallpassEventMap;

export interface HallpassClient {
  /**
   * Signs in with a username and password (`POST /v1/token`, password grant). hallpass sets the
   * refresh token as an HttpOnly cookie; the access token stays in memory. Emits `login`.
   * @throws {HallpassError} `invalid_grant` (400: wrong username or password, or the session limit),
   *   `rate_limited` (429, with `retryAfter`), `network_error` (status 0: unreachable, or this origin not allowed), …
   */
  login(username: string, password: string): Promise<User>;
  /**
   * The second step when `login()` (or `loginWithEmailCode()`) rejected with `mfa_required`:
   * pass `error.mfaToken` and a code from the authenticator app, or a recovery code.
   * @throws {HallpassError} `invalid_grant` (400: a wrong code, or an attempt that expired, was used,
   *   or had five wrong codes; `message` says which, and after the latter sign in again), `rate_limited` (429), …
   */
  completeMfa(mfaToken: string, proof: { code: string } | { recoveryCode: string }): Promise<User>;
  /** The signed-in user's second factors, and how many recovery codes are left. */
  factors(): Promise<{ factors: Factor[]; recovery_codes_left: number }>;
  /**
   * Starts adding an authenticator app; show `qr_svg` (inline SVG) or `secret`, then `confirmTotp`.
   * @throws {HallpassError} `insufficient_user_authentication` (401: pass `currentPassword`), `invalid_credentials` (403), …
   */
  startTotp(options?: { name?: string; currentPassword?: string }): Promise<{ id: string; secret: string; otpauth_uri: string; qr_svg: string }>;
  /** Confirms the app with a code from it; `recovery_codes` are shown once (empty for a second app). */
  confirmTotp(code: string): Promise<{ recovery_codes: string[] }>;
  /** Removes a factor (the last one takes the recovery codes with it). */
  removeFactor(id: string, options?: { currentPassword?: string }): Promise<void>;
  /** Replaces the recovery codes. */
  regenerateRecoveryCodes(options?: { currentPassword?: string }): Promise<{ recovery_codes: string[] }>;
  /**
   * Signs in with a social login provider configured in hallpass: navigates to the provider,
   * which sends the browser back to `returnTo` (default: this page); call `restore()` there.
   * `returnTo`'s origin must be in hallpass's `allowed_origins`. No token travels in a URL.
   */
  loginWith(provider: string, options?: { returnTo?: string }): void;

  /**
   * Mails a sign-in code and link to `email` when it is an account's verified address; resolves
   * alike when it is not. Needs hallpass's `[email] passwordless_login`.
   */
  requestEmailCode(email: string): Promise<void>;
  /**
   * Signs in with the mailed code (`{ email, code }`) or the link's `token`, as `login()` does.
   * @throws {HallpassError} `invalid_grant` (400: wrong, used or expired code), `unsupported_grant_type`
   *   (passwordless sign-in is off), `rate_limited` (429), …
   */
  loginWithEmailCode(proof: { email: string; code: string } | { token: string }): Promise<User>;
  /** Mails a reset link to the verified address of the account `login` (username or email) names; resolves alike for none. */
  forgotPassword(login: string): Promise<void>;
  /**
   * Sets a new password with a reset link's `token`; every session of the account ends.
   * @throws {HallpassError} `invalid_token` (400: used, expired or forged link), `validation_failed` (422: the password rules), …
   */
  resetPassword(token: string, newPassword: string): Promise<void>;
  /**
   * Proves an address with the link's `token` or the mailed `{ login, code }`.
   * @throws {HallpassError} `invalid_token`, …
   */
  verifyEmail(proof: string | { login: string; code: string }): Promise<void>;
  /** Mails the verification link again; resolves alike whether or not an account needs one. */
  resendVerification(login: string): Promise<void>;
  /**
   * Asks to move the signed-in account to `email`; takes effect once the mail to the new address
   * is followed. The old address is told.
   * @throws {HallpassError} `invalid_credentials` (403: wrong current password), `email_taken` (409), `validation_failed` (422: not an address), `unauthenticated`, …
   */
  changeEmail(email: string, currentPassword: string): Promise<void>;

  /** The social login providers hallpass offers (`GET /v1/oauth/providers`), for login buttons. */
  providers(): Promise<Array<{ name: string; display_name: string }>>;

  /**
   * Picks up the session after a page load, from the refresh cookie: the user, or null when
   * there is none. Emits `login` when a session is found.
   * @throws {HallpassError} only for failures that say nothing about the session (network, 429, 5xx)
   */
  restore(): Promise<User | null>;

  /**
   * Gets a new access token now. One refresh at a time per tab (concurrent calls share it) and
   * across tabs (Web Locks; a token another tab just got is adopted instead). If hallpass
   * refuses the refresh token, the session ends (`session-end`, reason `"refresh_failed"`).
   * @throws {HallpassError}
   */
  refresh(): Promise<void>;

  /**
   * `fetch` with `Authorization: Bearer <access token>`. Refreshes first when the token is about
   * to expire, and on a 401 refreshes once and retries once. Requests to hallpass itself go
   * without cookies unless `init.credentials` says otherwise. The token goes to any URL given:
   * use the plain `fetch` for third parties.
   * @throws {HallpassError} `unauthenticated` (401) when not signed in; network errors as `fetch` throws them
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;

  /** `GET /v1/me` with the access token. @throws {HallpassError} */
  me(): Promise<MeResponse>;

  /**
   * `POST /v1/logout`. With `"local"` (default) or `"global"`, forgets the token, clears the
   * refresh cookie, tells the other tabs (they emit `session-end`, reason `"logout"`) and emits
   * `logout`, even when hallpass cannot be reached (then it throws after). `"others"` keeps this
   * session signed in.
   * @throws {HallpassError}
   */
  logout(options?: { scope?: LogoutScope }): Promise<LogoutResult>;

  /** The signed-in user, or null. Never the token. */
  readonly user: User | null;

  /** When the current access token expires (ms since the epoch), or null when signed out. */
  readonly expiresAt: number | null;

  /** hallpass's URL, as given (without a trailing slash). */
  readonly baseUrl: string;

  /** Subscribes to an event; returns the function that unsubscribes. Handler errors are reported, never thrown into the client. */
  on<K extends HallpassEventName>(event: K, handler: (detail: HallpassEventMap[K]) => void): () => void;

  /**
   * Watches the session for revocation over `GET /v1/session/events` (started by `login()` and
   * `restore()` unless `watch: false`). Reconnects with backoff (1 s, 2 s, … 30 s) while signed in.
   * One tab per browser holds the connection and tells the others. Returns a function that stops watching.
   */
  watchSession(): () => void;

  /** Stops all background work: the session watch, the scheduled refresh, the cross-tab channel. */
  close(): void;
}

/** What the SDK's calls throw. */
export declare class HallpassError extends Error {
  constructor(
    message: string,
    init?: { status?: number; code?: string; retryAfter?: number; body?: unknown; cause?: unknown },
  );
  readonly name: "HallpassError";
  /** The HTTP status; 0 when hallpass could not be reached (network, CORS, timeout). */
  readonly status: number;
  /**
   * The problem+json `code` (`invalid_credentials`, `unauthenticated`, `rate_limited`, …) or
   * the OAuth `error` of `/v1/token` (`invalid_grant`, `invalid_request`, …); `network_error`,
   * `timeout`, `aborted` or `invalid_response` from the SDK itself.
   */
  readonly code: string;
  /** Seconds to wait before trying again (`Retry-After`), when hallpass said. */
  readonly retryAfter: number | undefined;
  /** The parsed error body, when there was one. */
  readonly body: unknown;
  /** For `mfa_required` (from `login()`, `loginWithEmailCode()`): the token `completeMfa` takes. */
  mfaToken?: string;
  /** For `mfa_required`: what may complete it (`"totp"`, `"recovery_code"`). */
  methods?: string[];
}

/** Creates a client for one hallpass server. Create one per page and share it. */
export declare function createClient(options: HallpassOptions): HallpassClient;
