import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";

export interface IssuerClient {
  secret: string;
  /** The `aud` claim of its tokens when the request names none. */
  audience: string;
}

/**
 * A small OAuth 2 issuer on loopback for tests: client-credentials grants at `/token`
 * (client authentication by HTTP Basic or form fields), RS256 JWTs, its key at `/jwks`,
 * OpenID discovery at `/.well-known/openid-configuration`. The broker checks its tokens
 * with Kafka's own validator against the JWKS.
 */
export interface TokenIssuer {
  url: string;
  tokenEndpoint: string;
  jwksUrl: string;
  /** Tokens issued so far, per client id. */
  issued(clientId: string): number;
  stop(): Promise<void>;
}

export async function startTokenIssuer(clients: Record<string, IssuerClient>, lifetimeSeconds: number): Promise<TokenIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  const counts = new Map<string, number>();
  let url = "";

  const answer = (response: http.ServerResponse, status: number, body: object): void => {
    response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    response.end(JSON.stringify(body));
  };

  async function issue(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of request) body += String(chunk);
    const form = new URLSearchParams(body);
    let [clientId, secret] = [form.get("client_id") ?? "", form.get("client_secret") ?? ""];
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? "");
    if (basic) {
      const decoded = Buffer.from(basic[1], "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      [clientId, secret] = [decodeURIComponent(decoded.slice(0, colon)), decodeURIComponent(decoded.slice(colon + 1))];
    }
    if (form.get("grant_type") !== "client_credentials") return answer(response, 400, { error: "unsupported_grant_type" });
    const client = clients[clientId];
    if (!client || client.secret !== secret) return answer(response, 401, { error: "invalid_client", error_description: "client authentication failed" });
    counts.set(clientId, (counts.get(clientId) ?? 0) + 1);
    const scope = form.get("scope");
    const token = await new SignJWT(scope ? { scope } : {})
      .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
      .setIssuer(url)
      .setSubject(clientId)
      .setAudience(form.get("audience") ?? client.audience)
      .setIssuedAt()
      .setExpirationTime(`${lifetimeSeconds}s`)
      .sign(privateKey);
    answer(response, 200, { access_token: token, token_type: "Bearer", expires_in: lifetimeSeconds });
  }

  const server = http.createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (request.method === "POST" && path === "/token") {
      issue(request, response).catch((error: Error) => answer(response, 500, { error: "server_error", error_description: error.message }));
    } else if (path === "/jwks") {
      answer(response, 200, { keys: [jwk] });
    } else if (path === "/.well-known/openid-configuration") {
      answer(response, 200, { issuer: url, token_endpoint: `${url}/token`, jwks_uri: `${url}/jwks`, grant_types_supported: ["client_credentials"], id_token_signing_alg_values_supported: ["RS256"] });
    } else {
      answer(response, 404, { error: "not_found" });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    tokenEndpoint: `${url}/token`,
    jwksUrl: `${url}/jwks`,
    issued: (clientId) => counts.get(clientId) ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
