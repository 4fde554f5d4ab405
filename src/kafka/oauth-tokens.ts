import { decodeJwt } from "jose";
import * as oidc from "openid-client";

/** An OAuth 2 client-credentials grant, as a kafka-broker or schema-registry node is set up with it. */
export interface OAuthSettings {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes; blank: none asked for. */
  scope?: string;
  /** The `audience` parameter some issuers (Auth0, Okta, Keycloak's token exchange) want; blank: none sent. */
  audience?: string;
}

export interface AccessToken {
  value: string;
  /** When the issuer says it expires, in ms since the epoch. */
  expiresAt: number;
  /** The JWT's `sub` claim, else the client id (the token may be opaque). */
  principal: string;
}

/** What went wrong getting a token; the message names the endpoint and what it said. */
export class OAuthTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OAuthTokenError";
  }
}

/** A token whose issuer gives no lifetime is kept this long. */
const DEFAULT_LIFETIME_MS = 5 * 60_000;
/**
 * A token is replaced once half its lifetime has passed: a client that logs in again
 * (the broker asks for it before the token expires) always gets one with at least half
 * its lifetime left, so that its next login is not due at once.
 */
const REFRESH_AT_SHARE = 0.5;

/** Checks the settings a dialog gave; the message says which one is missing or wrong. */
export function checkOAuthSettings(settings: OAuthSettings): void {
  const missing = (["tokenEndpoint", "clientId", "clientSecret"] as const).filter((field) => !settings[field]?.trim());
  if (missing.length > 0) throw new OAuthTokenError(`OAuth needs a token endpoint URL, a client id and a client secret (missing: ${missing.join(", ")})`);
  let url: URL;
  try {
    url = new URL(settings.tokenEndpoint);
  } catch {
    throw new OAuthTokenError(`the token endpoint "${settings.tokenEndpoint}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new OAuthTokenError(`the token endpoint must be an https:// (or http://) URL, not ${url.protocol}`);
}

/**
 * Access tokens from an OAuth 2 token endpoint (client credentials, openid-client):
 * fetched when first asked for, kept, and fetched again once half their lifetime has
 * passed; callers asking at the same time share one request.
 */
export class OAuthTokenSource {
  private readonly config: oidc.Configuration;
  private current: { token: AccessToken; refreshAt: number } | undefined;
  private pending: Promise<AccessToken> | undefined;

  constructor(
    private readonly settings: OAuthSettings,
    private readonly now: () => number = Date.now,
  ) {
    checkOAuthSettings(settings);
    const endpoint = settings.tokenEndpoint.trim();
    // the issuer is not known from a token endpoint alone; client credentials do not check it
    this.config = new oidc.Configuration({ issuer: new URL(endpoint).origin, token_endpoint: endpoint }, settings.clientId.trim(), undefined, oidc.ClientSecretBasic(settings.clientSecret));
    // an http:// endpoint is the user's explicit choice (an issuer on the same host)
    if (endpoint.startsWith("http:")) oidc.allowInsecureRequests(this.config);
  }

  /** A token with at least half its lifetime left; rejects with OAuthTokenError. */
  async token(): Promise<AccessToken> {
    if (this.current && this.now() < this.current.refreshAt) return this.current.token;
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Forgets the kept token: the next call fetches one (after the broker refused it, say). */
  forget(): void {
    this.current = undefined;
  }

  private async fetchToken(): Promise<AccessToken> {
    const parameters: Record<string, string> = {};
    if (this.settings.scope?.trim()) parameters.scope = this.settings.scope.trim();
    if (this.settings.audience?.trim()) parameters.audience = this.settings.audience.trim();
    const askedAt = this.now();
    let response: Awaited<ReturnType<typeof oidc.clientCredentialsGrant>>;
    try {
      response = await oidc.clientCredentialsGrant(this.config, parameters);
    } catch (error) {
      throw new OAuthTokenError(`token endpoint: ${describeFailure(error)} [${this.settings.tokenEndpoint}]`);
    }
    const lifetimeMs = (response.expiresIn() ?? DEFAULT_LIFETIME_MS / 1000) * 1000;
    const token = { value: response.access_token, expiresAt: askedAt + lifetimeMs, principal: subjectOf(response.access_token) ?? this.settings.clientId };
    this.current = { token, refreshAt: askedAt + lifetimeMs * REFRESH_AT_SHARE };
    return token;
  }
}

/** What the endpoint answered (`invalid_client: ...`), or why it could not be asked (refused, TLS). */
function describeFailure(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError) {
    return `${error.error}${error.error_description ? ` (${error.error_description})` : ""}, HTTP ${error.status}`;
  }
  const failure = error as Error & { cause?: Error & { code?: string } };
  const cause = failure.cause;
  if (cause instanceof Error) return `${failure.message}: ${cause.code && !cause.message.includes(cause.code) ? `${cause.code} ` : ""}${cause.message}`;
  return failure.message;
}

/** The `sub` claim of a JWT, or undefined for a token that is not one. */
function subjectOf(token: string): string | undefined {
  try {
    const subject = decodeJwt(token).sub;
    return subject || undefined;
  } catch {
    return undefined;
  }
}
