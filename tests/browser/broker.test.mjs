// Brokered sign-in (issue 14) in headless Chromium: an openid-client relying party
// sends the user to localidp, whose login page offers "Sign in with Upstream Entra"
// next to the form; the button leads to a second localidp (the upstream, on
// `localhost` so that the two servers' cookies stay apart), whose form signs the user
// in and sends them back through localidp's callback to the relying party.
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

const RP_ID = 'eeeeeeee-0000-4000-8000-000000000001';
const RP_SECRET = 'browser-rp-secret-0123456789abcdefghijklm';
const BROKER_ID = 'eeeeeeee-0000-4000-8000-000000000002';
const BROKER_SECRET = 'browser-broker-secret-0123456789abcdefghi';
const EMAIL = 'zed@upstream.test';
const PASSWORD = 'correct horse battery staple';

function serve(args, t) {
  const p = spawn(BIN, ['serve', '--ephemeral', ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, LOCALIDP_LOG: 'warn' },
  });
  t.after(() => p.kill());
}

test('a user signs in through the "Sign in with …" button of an upstream provider', async (t) => {
  assert.ok(BIN, 'LOCALIDP_BIN must point at the localidp binary');
  await mkdir(OUTPUT_DIR, { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), 'localidp-broker-'));
  t.after(() => rm(work, { recursive: true, force: true }));

  const [rpPort, idpPort, upPort] = [await freePort(), await freePort(), await freePort()];
  const rpBase = `http://127.0.0.1:${rpPort}`;
  const idpBase = `http://127.0.0.1:${idpPort}`;
  const upBase = `http://localhost:${upPort}`;

  // The upstream: the user lives there; localidp is its registered client.
  const upSeed = path.join(work, 'upstream.toml');
  await writeFile(
    upSeed,
    `[[tenants]]
name = "upstream.onmicrosoft.com"
id = "${TENANT_ID}"
display_name = "Upstream"

[[clients]]
client_id = "${BROKER_ID}"
name = "localidp broker"
secret = "${BROKER_SECRET}"
redirect_uris = ["${idpBase}/federation/callback"]

[[users]]
email = "${EMAIL}"
password = "${PASSWORD}"
given_name = "Zed"
family_name = "Upstream"
`,
  );
  serve(['--port', String(upPort), '--public-url', upBase, '--seed', upSeed], t);
  await waitFor(`${upBase}/readyz`);

  // localidp: the relying party's IdP, brokering to the upstream.
  const seed = path.join(work, 'seed.toml');
  await writeFile(
    seed,
    `[[tenants]]
name = "contoso.onmicrosoft.com"
id = "${TENANT_ID}"
display_name = "Contoso"

[[clients]]
client_id = "${RP_ID}"
name = "Contoso Tasks"
secret = "${RP_SECRET}"
redirect_uris = ["${rpBase}/callback"]
`,
  );
  const config = path.join(work, 'localidp.toml');
  await writeFile(
    config,
    `[[upstream_providers]]
name = "entra"
display_name = "Upstream Entra"
discovery_url = "${upBase}/${TENANT_ID}/v2.0/.well-known/openid-configuration"
client_id = "${BROKER_ID}"
client_secret = "${BROKER_SECRET}"
create_users = true
trust_email = true
`,
  );
  serve(['--config', config, '--port', String(idpPort), '--public-url', idpBase, '--seed', seed], t);
  await waitFor(`${idpBase}/readyz`);

  const oidc = await client.discovery(
    new URL(`${idpBase}/${TENANT_ID}/v2.0`),
    RP_ID,
    RP_SECRET,
    client.ClientSecretPost(RP_SECRET),
    { execute: [client.allowInsecureRequests] },
  );
  let pending = null;
  const rp = http.createServer(async (req, res) => {
    const url = new URL(req.url, rpBase);
    try {
      if (url.pathname === '/login') {
        pending = {
          verifier: client.randomPKCECodeVerifier(),
          state: client.randomState(),
          nonce: client.randomNonce(),
        };
        const target = client.buildAuthorizationUrl(oidc, {
          redirect_uri: `${rpBase}/callback`,
          scope: 'openid profile email',
          code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
          code_challenge_method: 'S256',
          state: pending.state,
          nonce: pending.nonce,
        });
        res.writeHead(302, { location: target.href });
        res.end();
      } else if (url.pathname === '/callback') {
        const tokens = await client.authorizationCodeGrant(oidc, url, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>` +
            `<body><p id="who">${claims.name} (${claims.email})</p></body></html>`,
        );
      } else {
        res.writeHead(404);
        res.end();
      }
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`relying party error: ${e.name}: ${e.message}`);
    }
  });
  await new Promise((r) => rp.listen(rpPort, '127.0.0.1', r));
  t.after(() => rp.close());

  const profile = await mkdtemp(path.join(os.tmpdir(), 'localidp-chromium-'));
  t.after(() => rm(profile, { recursive: true, force: true }));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
    viewport: { width: 900, height: 720 },
  });
  t.after(() => browser.close());
  const page = browser.pages()[0] ?? (await browser.newPage());

  // localidp's login page: the form, and the provider's button beside it.
  await page.goto(`${rpBase}/login`);
  await page.waitForURL((u) => u.href.startsWith(`${idpBase}/`));
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Password').waitFor();
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'broker-chooser.png'), fullPage: true });
  await page.getByRole('link', { name: 'Sign in with Upstream Entra' }).click();

  // The upstream's own login page.
  await page.waitForURL((u) => u.href.startsWith(`${upBase}/`));
  assert.equal(await page.title(), 'Sign in · Upstream');
  await page.getByLabel('Email address').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // Back through localidp's callback to the relying party, signed in as a new local user.
  await page.waitForURL((u) => u.href.startsWith(`${rpBase}/callback`));
  assert.equal(await page.locator('#who').innerText(), `Zed Upstream (${EMAIL})`);
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'broker-signed-in.png'), fullPage: true });
});
