// A user signs in through localidp's real login page in headless Chromium and lands
// on a relying party built with openid-client (authorization code + PKCE), then
// signs in again without the form (SSO) and signs out.
//
// Env: LOCALIDP_BIN (the built binary), OUTPUT_DIR (screenshots), CHROMIUM (default
// /usr/bin/chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import { chromium } from 'playwright-core';

import { BIN, CHROMIUM, OUTPUT_DIR, TENANT_ID, freePort, waitFor } from './support.mjs';

const CLIENT_ID = 'eeeeeeee-0000-4000-8000-000000000001';
const CLIENT_SECRET = 'browser-rp-secret-0123456789abcdefghijklm';
const EMAIL = 'alice@contoso.com';
const PASSWORD = 'correct horse battery staple';

/** The relying party: a tiny web app using openid-client, one user at a time. */
function relyingParty(config, rpBase) {
  const pending = new Map(); // state -> { verifier, nonce }
  let last = null;
  const page = (title, body) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, rpBase);
    try {
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(page('Relying party', '<a href="/login">Sign in</a>'));
      } else if (url.pathname === '/login') {
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const nonce = client.randomNonce();
        pending.set(state, { verifier, nonce });
        const target = client.buildAuthorizationUrl(config, {
          redirect_uri: `${rpBase}/callback`,
          scope: 'openid profile email offline_access',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        res.writeHead(302, { location: target.href });
        res.end();
      } else if (url.pathname === '/callback') {
        const expected = pending.get(url.searchParams.get('state'));
        if (!expected) throw new Error('unknown state');
        pending.delete(url.searchParams.get('state'));
        const tokens = await client.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: expected.verifier,
          expectedState: url.searchParams.get('state'),
          expectedNonce: expected.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        last = { tokens, claims, info };
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          page(
            'Signed in',
            `<p id="who">Signed in as ${esc(info.name)} (${esc(info.email)})</p>` +
              `<p id="auth-time">${claims.auth_time}</p>`,
          ),
        );
      } else if (url.pathname === '/logout') {
        const target = client.buildEndSessionUrl(config, {
          id_token_hint: last.tokens.id_token,
          post_logout_redirect_uri: `${rpBase}/signed-out`,
          state: 'bye',
        });
        res.writeHead(302, { location: target.href });
        res.end();
      } else if (url.pathname === '/signed-out') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(page('Signed out', `<p id="state">${esc(url.searchParams.get('state'))}</p>`));
      } else {
        res.writeHead(404);
        res.end();
      }
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`relying party error: ${e.name}: ${e.message} ${e.cause ? JSON.stringify(e.cause) : ''}`);
    }
  });
}

test('a user signs in through the login page into an openid-client app', async (t) => {
  assert.ok(BIN, 'LOCALIDP_BIN must point at the localidp binary');
  await mkdir(OUTPUT_DIR, { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), 'localidp-browser-'));
  t.after(() => rm(work, { recursive: true, force: true }));

  const rpPort = await freePort();
  const rpBase = `http://127.0.0.1:${rpPort}`;
  const idpPort = await freePort();
  const idpBase = `http://127.0.0.1:${idpPort}`;
  const seed = path.join(work, 'seed.toml');
  await writeFile(
    seed,
    `[[tenants]]
name = "contoso.onmicrosoft.com"
id = "${TENANT_ID}"
display_name = "Contoso"
sign_up = true
forgot_password = true

[[clients]]
client_id = "${CLIENT_ID}"
name = "Contoso Tasks"
secret = "${CLIENT_SECRET}"
redirect_uris = ["${rpBase}/callback", "${rpBase}/signed-out"]

[[users]]
email = "${EMAIL}"
password = "${PASSWORD}"
given_name = "Alice"
family_name = "Smith"
`,
  );
  const idp = spawn(
    BIN,
    ['serve', '--ephemeral', '--port', String(idpPort), '--public-url', idpBase, '--seed', seed],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, LOCALIDP_LOG: 'warn' } },
  );
  t.after(() => idp.kill());
  await waitFor(`${idpBase}/readyz`);

  const config = await client.discovery(
    new URL(`${idpBase}/${TENANT_ID}/v2.0`),
    CLIENT_ID,
    CLIENT_SECRET,
    client.ClientSecretPost(CLIENT_SECRET),
    { execute: [client.allowInsecureRequests] },
  );
  const rp = relyingParty(config, rpBase);
  await new Promise((r) => rp.listen(rpPort, '127.0.0.1', r));
  t.after(() => rp.close());

  const profile = await mkdtemp(path.join(os.tmpdir(), 'localidp-chromium-'));
  t.after(() => rm(profile, { recursive: true, force: true }));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 900, height: 720 },
  });
  t.after(() => browser.close());
  const page = browser.pages()[0] ?? (await browser.newPage());

  // The RP sends the browser to the authorize endpoint, which shows the login page.
  await page.goto(`${rpBase}/`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${idpBase}/`));
  assert.equal(await page.title(), 'Sign in · Contoso');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'login-page.png'), fullPage: true });

  // The tenant offers sign-up: its page renders, and Cancel goes back to the app.
  await page.getByRole('link', { name: 'Sign up now' }).click();
  await page.getByRole('heading', { name: 'Create your account' }).waitFor();
  assert.equal(await page.title(), 'Sign up · Contoso');
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'signup-page.png'), fullPage: true });
  await page.goBack();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();

  // A wrong password shows an error and keeps the user on the form.
  await page.getByLabel('Email address').fill(EMAIL);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /username or password is incorrect/);
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'login-error.png'), fullPage: true });

  // The right one lands on the RP, which redeemed the code with its PKCE verifier.
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${rpBase}/callback`));
  assert.equal(await page.locator('#who').innerText(), `Signed in as Alice Smith (${EMAIL})`);
  const authTime = await page.locator('#auth-time').innerText();
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'signed-in.png'), fullPage: true });

  // Single sign-on: a second sign-in needs no form.
  await page.goto(`${rpBase}/login`);
  await page.waitForURL((u) => u.href.startsWith(`${rpBase}/callback`));
  assert.equal(await page.locator('#auth-time').innerText(), authTime);

  // Sign-out ends the session and returns to the RP's registered page.
  await page.goto(`${rpBase}/logout`);
  await page.waitForURL((u) => u.href.startsWith(`${rpBase}/signed-out`));
  assert.equal(await page.locator('#state').innerText(), 'bye');

  // After sign-out the form is shown again.
  await page.goto(`${rpBase}/login`);
  await page.waitForURL((u) => u.href.startsWith(`${idpBase}/`));
  await page.getByLabel('Password').waitFor();
});
