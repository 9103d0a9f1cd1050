// Single-page apps in headless Chromium: an MSAL.js (@azure/msal-browser) app served
// from its own origin over plain http://localhost signs in against localidp over HTTPS
// with loginRedirect on the Entra and on the B2C authority, shows the account, redeems
// its refresh token from the browser (again, and for a second resource's token), and
// signs out with logoutRedirect; then the same with loginPopup and acquireTokenPopup,
// ssoSilent (prompt=none in a hidden iframe, with and without a session), and with
// oidc-client-ts. Every page must log no console error and
// no failed request (CORS refusals show up as both).
//
// Env: LOCALIDP_BIN (the built binary), OUTPUT_DIR (screenshots), CHROMIUM (default
// /usr/bin/chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { BIN, CHROMIUM, OUTPUT_DIR, TENANT_ID, freePort } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const TENANT = 'contoso.onmicrosoft.com';
const POLICY = 'B2C_1_signupsignin';
const SPA_ID = 'eeeeeeee-0000-4000-8000-00000000005a';
const API_ID = 'eeeeeeee-0000-4000-8000-0000000000a1';
const EMAIL = 'alice@contoso.com';
const PASSWORD = 'correct horse battery staple';

/** The MSAL.js app: one page; the authority comes from `?authority=entra|b2c`. */
const MSAL_PAGE = (idpBase, spaBase) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MSAL SPA</title><link rel="icon" href="data:,">
<script src="/msal-browser.min.js"></script></head>
<body><h1>MSAL SPA</h1>
<p id="status">loading</p><p id="account"></p><p id="refreshed"></p><p id="error"></p>
<button id="login-redirect">Sign in (redirect)</button>
<button id="login-popup">Sign in (popup)</button>
<button id="refresh">Refresh tokens</button>
<button id="logout">Sign out</button>
<button id="sso-silent">Silent sign-in</button><p id="silent"></p>
<button id="token-popup">Token (popup)</button><p id="popup-token"></p>
<button id="api-token">API token</button><p id="api"></p>
<script>
(async () => {
  const kind = new URLSearchParams(location.search).get('authority')
    ?? sessionStorage.getItem('authority') ?? 'entra';
  sessionStorage.setItem('authority', kind);
  const authority = kind === 'b2c'
    ? '${idpBase}/${TENANT}/${POLICY}'
    : '${idpBase}/${TENANT_ID}';
  const pca = new msal.PublicClientApplication({
    auth: {
      clientId: '${SPA_ID}',
      authority,
      knownAuthorities: ['${new URL(idpBase).host}'],
      redirectUri: '${spaBase}/',
      postLogoutRedirectUri: '${spaBase}/signed-out',
    },
    cache: { cacheLocation: 'sessionStorage' },
  });
  const scopes = ['openid', 'profile', 'offline_access'];
  const show = (account) => {
    // B2C tokens carry emails, not preferred_username: MSAL leaves username empty.
    document.getElementById('account').textContent = account
      ? account.name + ' <' + (account.username || account.idTokenClaims?.emails?.[0]) + '> tenant ' + account.tenantId
      : '';
    document.getElementById('status').textContent = account ? 'signed in' : 'signed out';
  };
  try {
    await pca.initialize();
    const result = await pca.handleRedirectPromise();
    if (result) pca.setActiveAccount(result.account);
    show(pca.getActiveAccount() ?? pca.getAllAccounts()[0] ?? null);
  } catch (e) {
    document.getElementById('error').textContent = e.errorCode + ': ' + e.message;
  }
  const guard = (f) => async () => {
    try { await f(); } catch (e) {
      document.getElementById('error').textContent = (e.errorCode ?? e.name) + ': ' + e.message;
    }
  };
  document.getElementById('login-redirect').onclick = guard(() => pca.loginRedirect({ scopes }));
  document.getElementById('login-popup').onclick = guard(async () => {
    const result = await pca.loginPopup({ scopes, redirectUri: '${spaBase}/popup' });
    pca.setActiveAccount(result.account);
    show(result.account);
  });
  document.getElementById('refresh').onclick = guard(async () => {
    const account = pca.getActiveAccount() ?? pca.getAllAccounts()[0];
    const result = await pca.acquireTokenSilent({ scopes, account, forceRefresh: true });
    document.getElementById('refreshed').textContent = 'refreshed ' + result.idTokenClaims.oid;
  });
  // An access token for another resource, silently: the refresh token reaches it.
  document.getElementById('api-token').onclick = guard(async () => {
    const account = pca.getActiveAccount() ?? pca.getAllAccounts()[0];
    const result = await pca.acquireTokenSilent({ scopes: ['api://${API_ID}/Tasks.Read'], account });
    const claims = JSON.parse(atob(result.accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    document.getElementById('api').textContent = 'aud ' + claims.aud + ' scp ' + claims.scp;
  });
  document.getElementById('token-popup').onclick = guard(async () => {
    const account = pca.getActiveAccount() ?? pca.getAllAccounts()[0];
    const result = await pca.acquireTokenPopup({ scopes, account, redirectUri: '${spaBase}/popup' });
    document.getElementById('popup-token').textContent = 'popup token for ' + result.account.idTokenClaims.oid
      + (result.accessToken ? ' with access token' : '');
  });
  // ssoSilent: prompt=none in a hidden iframe, answered to MSAL v5's redirect bridge.
  document.getElementById('sso-silent').onclick = async () => {
    const out = document.getElementById('silent');
    try {
      const result = await pca.ssoSilent({ scopes, loginHint: '${EMAIL}', redirectUri: '${spaBase}/popup' });
      pca.setActiveAccount(result.account);
      show(result.account);
      out.textContent = 'silent ok';
    } catch (e) {
      out.textContent = (e instanceof msal.InteractionRequiredAuthError ? 'interaction required ' : 'other ')
        + e.errorCode + ': ' + (e.errorMessage ?? e.message).split('\\r')[0];
    }
  };
  document.getElementById('logout').onclick = guard(() => pca.logoutRedirect({
    account: pca.getActiveAccount() ?? pca.getAllAccounts()[0],
  }));
  document.body.dataset.ready = 'true';
})();
</script></body></html>`;

/** MSAL v5's popup target: hands the response back to the opener and closes. */
const MSAL_POPUP = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in</title><link rel="icon" href="data:,">
<script src="/msal-redirect-bridge.min.js"></script></head>
<body><p>Processing authentication…</p>
<script>msalRedirectBridge.broadcastResponseToMainFrame().catch((e) => {
  document.body.textContent = 'bridge error: ' + e.message;
});</script></body></html>`;

/** The SPA's own web server: the page and the libraries, nothing else. */
async function spaServer(idpBase, spaBase) {
  const lib = path.join(here, 'node_modules', '@azure', 'msal-browser', 'lib');
  const files = {
    '/msal-browser.min.js': await readFile(path.join(lib, 'msal-browser.min.js')),
    '/msal-redirect-bridge.min.js': await readFile(
      path.join(lib, 'redirect-bridge', 'msal-redirect-bridge.min.js'),
    ),
    '/oidc-client-ts.min.js': await readFile(
      path.join(here, 'node_modules', 'oidc-client-ts', 'dist', 'browser', 'oidc-client-ts.min.js'),
    ),
  };
  const page = MSAL_PAGE(idpBase, spaBase);
  return http.createServer((req, res) => {
    const url = new URL(req.url, spaBase);
    if (files[url.pathname]) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(files[url.pathname]);
    } else if (url.pathname === '/' || url.pathname === '/signed-out') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    } else if (url.pathname === '/popup') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(MSAL_POPUP);
    } else if (url.pathname === '/oidc') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(OIDC_PAGE(idpBase, spaBase));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
}

/** The oidc-client-ts app: signinRedirect, userinfo, signoutRedirect. */
const OIDC_PAGE = (idpBase, spaBase) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oidc-client-ts SPA</title><link rel="icon" href="data:,">
<script src="/oidc-client-ts.min.js"></script></head>
<body><h1>oidc-client-ts SPA</h1><p id="status">loading</p><p id="account"></p><p id="error"></p>
<button id="login">Sign in</button><button id="logout">Sign out</button>
<script>
(async () => {
  const mgr = new oidc.UserManager({
    authority: '${idpBase}/${TENANT_ID}/v2.0',
    client_id: '${SPA_ID}',
    redirect_uri: '${spaBase}/oidc',
    post_logout_redirect_uri: '${spaBase}/oidc',
    scope: 'openid profile email offline_access',
    loadUserInfo: true,
  });
  const guard = (f) => async () => {
    try { await f(); } catch (e) {
      document.getElementById('error').textContent = e.name + ': ' + e.message;
    }
  };
  await guard(async () => {
    if (new URLSearchParams(location.search).has('code')) {
      await mgr.signinRedirectCallback();
      history.replaceState(null, '', '/oidc');
    }
    const user = await mgr.getUser();
    document.getElementById('status').textContent = user ? 'signed in' : 'signed out';
    if (user) document.getElementById('account').textContent = user.profile.name + ' <' + user.profile.email + '>';
  })();
  document.getElementById('login').onclick = guard(() => mgr.signinRedirect());
  document.getElementById('logout').onclick = guard(() => mgr.signoutRedirect());
  document.body.dataset.ready = 'true';
})();
</script></body></html>`;

test('MSAL.js and oidc-client-ts SPAs sign in from their own origin', async (t) => {
  assert.ok(BIN, 'LOCALIDP_BIN must point at the localidp binary');
  await mkdir(OUTPUT_DIR, { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), 'localidp-spa-'));
  t.after(() => rm(work, { recursive: true, force: true }));

  const spaPort = await freePort();
  const spaBase = `http://localhost:${spaPort}`;
  const idpPort = await freePort();
  const idpBase = `https://localhost:${idpPort}`;
  const seed = path.join(work, 'seed.toml');
  await writeFile(
    seed,
    `[[tenants]]
name = "${TENANT}"
id = "${TENANT_ID}"
display_name = "Contoso"
policies = ["${POLICY}"]

[[clients]]
client_id = "${SPA_ID}"
name = "Contoso SPA"
public = true
spa = { redirect_uris = ["${spaBase}/", "${spaBase}/signed-out", "${spaBase}/popup", "${spaBase}/oidc"] }

[[clients]]
client_id = "${API_ID}"
name = "Tasks API"
secret = "tasks-api-secret-0123456789abcdefghijklmn"

[[users]]
email = "${EMAIL}"
password = "${PASSWORD}"
given_name = "Alice"
family_name = "Smith"
`,
  );
  const ca = path.join(work, 'ca.pem');
  const idp = spawn(
    BIN,
    ['serve', '--ephemeral', '--tls', '--tls-ca-out', ca, '--port', String(idpPort),
      '--public-url', idpBase, '--seed', seed],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, LOCALIDP_LOG: 'warn' } },
  );
  t.after(() => idp.kill());
  const caPem = await (async () => {
    for (let i = 0; i < 200; i++) {
      try { return await readFile(ca, 'utf8'); } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('localidp wrote no CA certificate');
  })();
  await waitForTls(`${idpBase}/readyz`, caPem);

  const spa = await spaServer(idpBase, spaBase);
  await new Promise((r) => spa.listen(spaPort, '127.0.0.1', r));
  t.after(() => spa.close());

  const profile = await mkdtemp(path.join(os.tmpdir(), 'localidp-chromium-'));
  t.after(() => rm(profile, { recursive: true, force: true }));
  // Third-party cookies allowed, as in Chrome's default settings: silent sign-in in a
  // hidden iframe needs the IdP's session cookie (as with Entra).
  await mkdir(path.join(profile, 'Default'), { recursive: true });
  await writeFile(
    path.join(profile, 'Default', 'Preferences'),
    JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }),
  );
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // The development CA is not in Chromium's store; the page's requests are otherwise
    // ordinary cross-origin HTTPS.
    ignoreHTTPSErrors: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 900, height: 720 },
  });
  t.after(() => browser.close());

  // Everything that goes wrong on any page: console errors, refused or failed requests.
  const problems = [];
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()} (${page.url()})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) {
        problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
      }
    });
  };
  browser.on('page', watch);

  const page = browser.pages()[0] ?? (await browser.newPage());
  watch(page);
  const ready = async () => {
    await page.locator('body[data-ready="true"]').waitFor();
  };
  const text = (id) => page.locator(`#${id}`).innerText();
  const signIn = async () => {
    await page.waitForURL((u) => u.href.startsWith(`${idpBase}/`));
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const signedIn = async (shot) => {
    await page.waitForURL((u) => u.href.startsWith(`${spaBase}/`));
    await ready();
    await page.locator('#status', { hasText: /^signed in$/ }).waitFor();
    assert.equal(await text('error'), '');
    await page.screenshot({ path: path.join(OUTPUT_DIR, shot), fullPage: true });
  };

  for (const kind of ['entra', 'b2c']) {
    await t.test(`loginRedirect, silent refresh, logoutRedirect (${kind})`, async () => {
      await page.goto(`${spaBase}/?authority=${kind}`);
      await ready();
      assert.equal(await text('status'), 'signed out');
      await page.getByRole('button', { name: 'Sign in (redirect)' }).click();
      await signIn();
      await signedIn(`msal-${kind}-signed-in.png`);
      // MSAL's tenantId is tid (Entra), else the policy (B2C's tfp).
      const tenant = kind === 'b2c' ? POLICY : TENANT_ID;
      assert.equal(await text('account'), `Alice Smith <${EMAIL}> tenant ${tenant}`);
      // The refresh token is redeemed from the page, cross-origin.
      await page.getByRole('button', { name: 'Refresh tokens' }).click();
      await page.locator('#refreshed', { hasText: 'refreshed' }).waitFor();
      assert.equal(await text('error'), '');
      // A token for a second resource, silently, with the same refresh token.
      await page.getByRole('button', { name: 'API token' }).click();
      await page.locator('#api', { hasText: /./ }).waitFor();
      assert.equal(await text('api'), `aud ${API_ID} scp Tasks.Read`);
      assert.equal(await text('error'), '');
      // logoutRedirect names no application: localidp finds the URI registered.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((u) => u.href.startsWith(`${spaBase}/signed-out`));
      await ready();
      assert.equal(await text('status'), 'signed out');
      assert.equal(await text('error'), '');
      assert.deepEqual(problems, []);
    });
  }

  await t.test('ssoSilent without a session: login_required reaches the app', async () => {
    await page.goto(`${spaBase}/?authority=entra`);
    await ready();
    await page.getByRole('button', { name: 'Silent sign-in' }).click();
    await page.locator('#silent', { hasText: /./ }).waitFor();
    const silent = await text('silent');
    assert.match(silent, /^interaction required login_required: AADSTS50058: /);
    // B2C answers interaction_required with AADB2C90077.
    await page.goto(`${spaBase}/?authority=b2c`);
    await ready();
    await page.getByRole('button', { name: 'Silent sign-in' }).click();
    await page.locator('#silent', { hasText: /./ }).waitFor();
    assert.match(await text('silent'), /^interaction required interaction_required: AADB2C90077: /);
    assert.deepEqual(problems, []);
  });

  await t.test('loginPopup, acquireTokenPopup, ssoSilent with a session (entra)', async () => {
    await page.goto(`${spaBase}/?authority=entra`);
    await ready();
    const popupOpened = browser.waitForEvent('page');
    await page.getByRole('button', { name: 'Sign in (popup)' }).click();
    const popup = await popupOpened;
    await popup.waitForURL((u) => u.href.startsWith(`${idpBase}/`));
    await popup.getByLabel('Email address').fill(EMAIL);
    await popup.getByLabel('Password').fill(PASSWORD);
    await popup.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#status', { hasText: /^signed in$/ }).waitFor();
    assert.equal(await text('error'), '');
    assert.equal(await text('account'), `Alice Smith <${EMAIL}> tenant ${TENANT_ID}`);
    // acquireTokenPopup: the session answers in the popup at once, which closes.
    await page.getByRole('button', { name: 'Token (popup)' }).click();
    await page.locator('#popup-token', { hasText: /with access token$/ }).waitFor();
    assert.equal(await text('error'), '');
    // With the session, a fresh page signs in silently (hidden iframe, prompt=none).
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(`${spaBase}/?authority=entra`);
    await ready();
    assert.equal(await text('status'), 'signed out');
    await page.getByRole('button', { name: 'Silent sign-in' }).click();
    await page.locator('#silent', { hasText: /./ }).waitFor();
    assert.equal(await text('silent'), 'silent ok');
    assert.equal(await text('status'), 'signed in');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${spaBase}/signed-out`));
    assert.deepEqual(problems, []);
  });

  await t.test('oidc-client-ts: signinRedirect, userinfo, signoutRedirect', async () => {
    await page.goto(`${spaBase}/oidc`);
    await ready();
    assert.equal(await text('status'), 'signed out');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signIn();
    await page.waitForURL((u) => u.href.startsWith(`${spaBase}/oidc`));
    await page.locator('#status', { hasText: /^signed in$/ }).waitFor();
    assert.equal(await text('error'), '');
    assert.equal(await text('account'), `Alice Smith <${EMAIL}>`);
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'oidc-client-ts-signed-in.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${spaBase}/oidc`) && !u.href.includes('code='));
    await page.locator('#status', { hasText: /^signed out$/ }).waitFor();
    assert.deepEqual(problems, []);
  });
});

/** Waits for the HTTPS server, trusting only the development CA. */
async function waitForTls(url, caPem, ms = 20000) {
  const https = await import('node:https');
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const req = https.get(url, { ca: caPem }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${url} did not answer in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
