import * as assert from "node:assert/strict";
import { OAuthTokenError, OAuthTokenSource } from "../../src/kafka/oauth-tokens";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { startTokenIssuer, type TokenIssuer } from "../support/token-issuer";

/** The token source against the test issuer (real HTTP on loopback), with a clock the test moves. */
describe("OAuth token source (client credentials)", () => {
  let issuer: TokenIssuer;
  before(async () => {
    issuer = await startTokenIssuer({ flow: { secret: "right", audience: "kafka" } }, 100);
  });
  after(async () => {
    await issuer?.stop();
  });

  it("fetches a token once for callers asking together, keeps it for half its lifetime, then fetches a new one", async () => {
    let now = Date.now();
    const source = new OAuthTokenSource({ tokenEndpoint: issuer.tokenEndpoint, clientId: "flow", clientSecret: "right", scope: "kafka" }, () => now);
    const before = issuer.issued("flow");
    const [first, second] = await Promise.all([source.token(), source.token()]);
    assert.equal(first, second);
    assert.equal(issuer.issued("flow") - before, 1, "one request for both callers");
    assert.equal(first.principal, "flow", "the JWT's subject");
    assert.ok(Math.abs(first.expiresAt - (now + 100_000)) < 1000, "expires when the issuer said (expires_in 100 s)");
    now += 49_000;
    assert.equal(await source.token(), first, "kept while more than half its lifetime is left");
    now += 2000;
    const renewed = await source.token();
    assert.notEqual(renewed, first, "a new token object (the issuer may sign the same claims within one second)");
    assert.equal(issuer.issued("flow") - before, 2);
  });

  it("says what the endpoint answered to a wrong secret, and why an endpoint could not be asked", async () => {
    const wrong = new OAuthTokenSource({ tokenEndpoint: issuer.tokenEndpoint, clientId: "flow", clientSecret: "wrong" });
    await assert.rejects(wrong.token(), (error: Error) => error instanceof OAuthTokenError && /^token endpoint: invalid_client \(client authentication failed\), HTTP 401 \[http:/.test(error.message));
    const nowhere = new OAuthTokenSource({ tokenEndpoint: `http://127.0.0.1:${await freePort()}/token`, clientId: "flow", clientSecret: "right" });
    await assert.rejects(nowhere.token(), (error: Error) => error instanceof OAuthTokenError && /^token endpoint: .*ECONNREFUSED/.test(error.message));
  });
});
