// msal-node against a private localidp over HTTPS: the development CA is trusted through
// the kit's fetch and networkClient (NODE_EXTRA_CA_CERTS is read only at process start).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { ConfidentialClientApplication, PublicClientApplication } from '@azure/msal-node';
import { startLocalIdp } from 'localidp';
import { startApi } from './api.mjs';
import { API, DAEMON, DAEMON_SECRET, WEB, seed } from './seed.mjs';

let idp;
let api;
let msalAuth;
before(async () => {
  idp = await startLocalIdp({ seed, tls: true });
  // The API fetches the JWKS over HTTPS with the kit's CA-trusting fetch.
  api = await startApi({ jwksUri: idp.jwksUri, issuer: idp.issuer, audience: API, fetch: idp.fetch });
  msalAuth = { authority: idp.authority, knownAuthorities: [new URL(idp.baseUrl).host] };
});
after(async () => {
  await api?.close();
  await idp?.stop();
});

test('the server speaks HTTPS with the CA the kit hands out', async () => {
  assert.match(idp.baseUrl, /^https:\/\/localhost:\d+$/);
  assert.match(idp.ca, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(await readFile(idp.caFile, 'utf8'), idp.ca);
  // Without the CA the certificate is refused.
  await assert.rejects(fetch(`${idp.baseUrl}/healthz`));
  assert.equal((await idp.fetch('/healthz')).status, 200);
});

test("msal-node's client credentials token is accepted by the API, and the journal shows msal's request with its secret redacted", async () => {
  await idp.clearRequests();
  const cca = new ConfidentialClientApplication({
    auth: { clientId: DAEMON, clientSecret: DAEMON_SECRET, ...msalAuth },
    system: { networkClient: idp.networkClient },
  });
  const result = await cca.acquireTokenByClientCredential({ scopes: [`api://${API}/.default`] });
  const { status, body } = await api.call(result.accessToken);
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.roles, ['Tasks.Read.All']);

  const journal = await idp.requests();
  const sent = journal.find((r) => r.method === 'POST' && r.path === `/${idp.tenantId}/oauth2/v2.0/token`);
  assert.ok(sent, JSON.stringify(journal));
  assert.equal(sent.status, 200);
  assert.equal(sent.form.grant_type, 'client_credentials');
  assert.equal(sent.form.client_id, DAEMON);
  assert.equal(sent.form.client_secret, '***');
  assert.equal(sent.form.scope, `api://${API}/.default`);
  assert.ok(!JSON.stringify(journal).includes(DAEMON_SECRET), 'the secret is in the journal');
  // msal-node first read the tenant's metadata; nothing of the kit's own is listed.
  assert.ok(journal.some((r) => r.path.endsWith('/v2.0/.well-known/openid-configuration')), JSON.stringify(journal));
  assert.ok(!journal.some((r) => r.path.startsWith('/_dev/') || r.path === '/healthz'), JSON.stringify(journal));
});

test('a user added with addUser signs in with msal-node (password grant) and the API accepts the token', async () => {
  const user = await idp.addUser({ email: 'carl@contoso.com', password: 'Carl-pw-12345!' });
  const pca = new PublicClientApplication({ auth: { clientId: WEB, ...msalAuth }, system: { networkClient: idp.networkClient } });
  const result = await pca.acquireTokenByUsernamePassword({
    scopes: [`api://${API}/.default`], username: 'carl@contoso.com', password: 'Carl-pw-12345!',
  });
  assert.equal(result.account.localAccountId, user.id);
  const { status, body } = await api.call(result.accessToken);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.oid, user.id);
});

test('a wrong secret is refused to msal-node with the server\'s error', async () => {
  const cca = new ConfidentialClientApplication({
    auth: { clientId: DAEMON, clientSecret: 'not-the-secret', ...msalAuth },
    system: { networkClient: idp.networkClient },
  });
  await assert.rejects(cca.acquireTokenByClientCredential({ scopes: [`api://${API}/.default`] }), (e) => {
    assert.equal(e.errorCode, 'invalid_client');
    return true;
  });
});
