// msal-node, openid-client, jose and @mastra/auth against localidp over HTTPS.
// Takes a JSON configuration as its argument and prints one JSON object of results.
import * as msal from '@azure/msal-node';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const cfg = JSON.parse(process.argv[2]);
const entra = `${cfg.base}/${cfg.tenant_id}`;
const apiScope = `api://${cfg.api_app}/Tasks.Read`;
const knownAuthorities = [new URL(cfg.base).host];
const claims = (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());
const out = {};

async function attempt(name, fn) {
  try {
    out[name] = { ok: true, ...(await fn()) };
  } catch (e) {
    out[name] = { ok: false, error: e.errorCode ?? e.code ?? e.name, message: String(e.errorMessage ?? e.message) };
  }
}

const cca = new msal.ConfidentialClientApplication({
  auth: { clientId: cfg.web_app, clientSecret: cfg.web_secret, authority: entra, knownAuthorities },
});
const pca = new msal.PublicClientApplication({
  auth: { clientId: cfg.public_app, authority: entra, knownAuthorities },
});

let appToken;
await attempt('msal_client_credentials', async () => {
  const r = await cca.acquireTokenByClientCredential({ scopes: [`api://${cfg.api_app}/.default`] });
  appToken = r.accessToken;
  return { claims: claims(r.accessToken) };
});
let forWeb;
await attempt('msal_password', async () => {
  const r = await pca.acquireTokenByUsernamePassword({
    scopes: [`api://${cfg.web_app}/access_as_user`], username: cfg.username, password: cfg.password,
  });
  forWeb = r.accessToken;
  return { claims: claims(r.accessToken), id_token_claims: r.idTokenClaims };
});
// The refresh token cached by the password flow (for the web app's API) redeems for
// a second API, as acquireTokenSilent asks: `.default`, then a named scope.
for (const [name, scope] of [
  ['msal_silent_second_resource_default', `${cfg.api_app}/.default`],
  ['msal_silent_second_resource_named', `api://${cfg.api_app}/Tasks.Write`],
]) {
  await attempt(name, async () => {
    const [account] = await pca.getTokenCache().getAllAccounts();
    const r = await pca.acquireTokenSilent({ account, scopes: [scope] });
    return { claims: claims(r.accessToken), from_cache: r.fromCache };
  });
}
await attempt('msal_obo', async () => {
  const r = await cca.acquireTokenOnBehalfOf({ oboAssertion: forWeb, scopes: [apiScope] });
  return { claims: claims(r.accessToken) };
});
await attempt('msal_wrong_password', async () => {
  const r = await pca.acquireTokenByUsernamePassword({
    scopes: [apiScope], username: cfg.username, password: 'wrong-password',
  });
  return { claims: claims(r.accessToken) };
});
await attempt('msal_wrong_secret', async () => {
  const bad = new msal.ConfidentialClientApplication({
    auth: { clientId: cfg.web_app, clientSecret: 'not-the-secret', authority: entra, knownAuthorities },
  });
  const r = await bad.acquireTokenByClientCredential({ scopes: [`api://${cfg.api_app}/.default`] });
  return { claims: claims(r.accessToken) };
});

// openid-client: discovery on the Entra path (strict issuer check), client
// credentials, a password grant and a refresh with ID token validation.
await attempt('openid_client', async () => {
  const config = await oidc.discovery(new URL(`${entra}/v2.0`), cfg.web_app, cfg.web_secret);
  const cc = await oidc.clientCredentialsGrant(config, { scope: `api://${cfg.api_app}/.default` });
  const pw = await oidc.genericGrantRequest(config, 'password', {
    username: cfg.username, password: cfg.password, scope: 'openid profile offline_access',
  });
  const refreshed = await oidc.refreshTokenGrant(config, pw.refresh_token);
  return {
    issuer: config.serverMetadata().issuer,
    cc_claims: claims(cc.access_token),
    id_token_sub: pw.claims()?.sub,
    refreshed_sub: refreshed.claims()?.sub,
    refresh_rotated: refreshed.refresh_token !== pw.refresh_token,
  };
});

// jose and @mastra/auth verify an access token from the JWKS URL alone.
const jwksUri = `${entra}/discovery/v2.0/keys`;
await attempt('jose', async () => {
  const { payload } = await jwtVerify(appToken, createRemoteJWKSet(new URL(jwksUri)), {
    issuer: `${entra}/v2.0`, audience: cfg.api_app,
  });
  return { oid: payload.oid };
});
await attempt('mastra', async () => {
  const { verifyJwks } = await import('@mastra/auth');
  const payload = await verifyJwks(appToken, jwksUri);
  return { oid: payload.oid };
});

console.log(JSON.stringify(out));
