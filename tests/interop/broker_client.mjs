// openid-client as the application of a brokered sign-in (issue 14): `start` prints
// the authorization URL (PKCE S256, state, nonce of its own) for the test to drive
// through localidp and its upstream; `finish` redeems the callback URL the browser
// reached and validates the ID token (issuer, audience, nonce, signature).
import * as oidc from 'openid-client';

const cfg = JSON.parse(process.argv[2]);
const config = await oidc.discovery(new URL(cfg.issuer), cfg.client_id, cfg.client_secret, undefined, {
  execute: [oidc.allowInsecureRequests],
});

if (cfg.mode === 'start') {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: cfg.redirect_uri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  console.log(JSON.stringify({ url: url.href, verifier, state, nonce }));
} else {
  const tokens = await oidc.authorizationCodeGrant(config, new URL(cfg.callback), {
    pkceCodeVerifier: cfg.verifier,
    expectedState: cfg.state,
    expectedNonce: cfg.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  console.log(JSON.stringify({ ok: true, issuer: config.serverMetadata().issuer, sub: claims.sub, oid: claims.oid, email: claims.email }));
}
