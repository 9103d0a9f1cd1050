// @microsoft/microsoft-graph-client against localidp's Directory API over HTTPS, its
// baseUrl pointed at localidp: GET /me with a delegated token (msal-node, password
// flow, scope User.Read) and GET /users with an app token (client credentials).
// Takes a JSON configuration as its argument and prints one JSON object of results.
import * as msal from '@azure/msal-node';
import { Client } from '@microsoft/microsoft-graph-client';

const cfg = JSON.parse(process.argv[2]);
const authority = `${cfg.base}/${cfg.tenant_id}`;
const knownAuthorities = [new URL(cfg.base).host];
const out = {};

async function attempt(name, fn) {
  try {
    out[name] = { ok: true, ...(await fn()) };
  } catch (e) {
    out[name] = { ok: false, status: e.statusCode, code: e.code, message: String(e.message) };
  }
}

const graph = (token) =>
  Client.init({
    baseUrl: `${cfg.base}/`,
    customHosts: new Set([new URL(cfg.base).hostname]),
    authProvider: (done) => done(null, token),
  });

const pca = new msal.PublicClientApplication({
  auth: { clientId: cfg.public_app, authority, knownAuthorities },
});
const cca = new msal.ConfidentialClientApplication({
  auth: { clientId: cfg.admin_app, clientSecret: cfg.admin_secret, authority, knownAuthorities },
});

const delegated = (
  await pca.acquireTokenByUsernamePassword({
    scopes: ['User.Read'], username: cfg.username, password: cfg.password,
  })
).accessToken;
const app = (
  await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] })
).accessToken;

await attempt('me', async () => {
  const me = await graph(delegated).api('/me').select('id,displayName,userPrincipalName').get();
  return { me };
});
await attempt('users', async () => {
  const page = await graph(app).api('/users').top(2).get();
  const next = await graph(app).api(page['@odata.nextLink']).get();
  return { first: page.value.map((u) => u.id), next: next.value.map((u) => u.id), link: page['@odata.nextLink'] };
});
await attempt('users_count', async () => {
  const page = await graph(app)
    .api('/users')
    .header('ConsistencyLevel', 'eventual')
    .count(true)
    .orderby('displayName desc')
    .top(1)
    .get();
  return { count: page['@odata.count'], names: page.value.map((u) => u.displayName) };
});
// An app-only token at /me, and a delegated one at /users: Graph's refusals.
await attempt('me_app_only', async () => graph(app).api('/me').get());
await attempt('users_delegated', async () => graph(delegated).api('/users').get());

console.log(JSON.stringify(out));
