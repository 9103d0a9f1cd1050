// The API validates tokens from a private localidp (plain HTTP): what it must accept and
// every hostile variant it must refuse, users added during the test, and the kit's errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { LocalIdpError, startLocalIdp } from 'localidp';
import { startApi } from './api.mjs';
import { ALICE, API, WEB, claims, seed } from './seed.mjs';

let idp;
let api;
before(async () => {
  idp = await startLocalIdp({ seed });
  api = await startApi({ jwksUri: idp.jwksUri, issuer: idp.issuer, audience: API });
});
after(async () => {
  await api?.close();
  await idp?.stop();
});

test('the kit names the server the way its discovery document does', async () => {
  assert.match(idp.baseUrl, /^http:\/\/localhost:\d+$/);
  assert.equal(idp.authority, `${idp.baseUrl}/${idp.tenantId}`);
  assert.equal(idp.issuer, `${idp.authority}/v2.0`);
  const meta = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(meta.jwks_uri, idp.jwksUri);
  assert.equal(meta.token_endpoint, idp.tokenEndpoint);
  assert.equal(idp.b2cAuthority(), `${idp.authority}/B2C_1_ROPC`);
});

test('a token from tokenFor is accepted by the API', async () => {
  const token = await idp.tokenFor(ALICE, { scopes: [`api://${API}/.default`], claims: { roles: ['Tasks.Admin'] } });
  const { status, body } = await api.call(token);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.oid, claims(token).oid);
  assert.deepEqual(body.roles, ['Tasks.Admin']);
});

// What jose reports for each variant: each is refused for its own reason.
const hostile = {
  expired: { code: 'ERR_JWT_EXPIRED', claim: 'exp' },
  not_yet_valid: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'nbf' },
  wrong_audience: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' },
  wrong_issuer: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' },
  foreign_key: { code: 'ERR_JWKS_NO_MATCHING_KEY' },
  alg_none: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
};

test('every hostile variant from mint is refused by the API, for its own reason', async () => {
  const fields = { user: ALICE, scope: `api://${API}/.default`, kind: 'access' };
  // The same request without a variant is accepted, so only the variant is refused.
  const valid = await idp.mint({ ...fields, variant: 'valid' });
  assert.equal((await api.call(valid.access_token)).status, 200);
  for (const [variant, reason] of Object.entries(hostile)) {
    const { access_token: token } = await idp.mint({ ...fields, variant });
    const { status, body } = await api.call(token);
    assert.equal(status, 401, `${variant} was accepted: ${JSON.stringify(body)}`);
    assert.equal(body.error_description, reason.code, variant);
    assert.equal(body.claim, reason.claim, variant);
  }
});

test('a user added with addUser gets tokens from tokenFor and from the password grant', async () => {
  const user = await idp.addUser({ email: 'bob@contoso.com', password: 'Bob-pw-12345!', displayName: 'Bob Jones' });
  assert.match(user.id, /^[0-9a-f-]{36}$/);
  const minted = await idp.tokenFor('bob@contoso.com', { scopes: `api://${API}/.default` });
  assert.deepEqual((await api.call(minted)).body.oid, user.id);

  const res = await fetch(idp.tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password', client_id: WEB, username: 'bob@contoso.com', password: 'Bob-pw-12345!',
      scope: `api://${API}/.default`,
    }),
  });
  const answer = await res.json();
  assert.equal(res.status, 200, JSON.stringify(answer));
  const { status, body } = await api.call(answer.access_token);
  assert.equal(status, 200);
  assert.equal(body.oid, user.id);
  assert.equal(claims(answer.access_token).name, 'Bob Jones');
});

test('a client added with addClient gets tokens with its secret', async () => {
  const client = await idp.addClient({ name: 'reporting', appRoles: ['Tasks.Read.All'] });
  assert.ok(client.clientSecret, 'no secret');
  const res = await fetch(idp.tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret,
      scope: `api://${client.clientId}/.default`,
    }),
  });
  const answer = await res.json();
  assert.equal(res.status, 200, JSON.stringify(answer));
  assert.equal(claims(answer.access_token).azp, client.clientId);
  assert.deepEqual(claims(answer.access_token).roles, ['Tasks.Read.All']);
});

test("the server's refusals reject with its body", async () => {
  await assert.rejects(idp.tokenFor('nobody@contoso.com'), (e) => {
    assert.ok(e instanceof LocalIdpError);
    assert.equal(e.status, 400);
    assert.equal(e.body.error, 'invalid_request');
    assert.match(e.message, /nobody@contoso\.com/);
    return true;
  });
  await assert.rejects(idp.mint({ user: ALICE, variant: 'half_valid' }), (e) => e.status === 400 && e.body.error === 'invalid_request');
  await assert.rejects(idp.addUser({ email: ALICE, password: 'Another-pw-123!' }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.body.error.code, 'Request_BadRequest');
    return true;
  });
  await assert.rejects(idp.addUser({ email: 'nopassword@contoso.com' }), (e) => e.status === 400 && /passwordProfile/.test(e.body.error.message));
});

test('the journal lists what the application sent, secrets redacted, and not the kit', async () => {
  await idp.clearRequests();
  await idp.tokenFor(ALICE, { clientId: WEB });
  await fetch(idp.tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: WEB, username: ALICE, password: 'alice-password', scope: 'openid' }),
  });
  const [entry, ...rest] = await idp.requests();
  assert.equal(rest.length, 0, JSON.stringify(rest));
  assert.equal(entry.path, `/${idp.tenantId}/oauth2/v2.0/token`);
  assert.equal(entry.form.username, ALICE);
  assert.equal(entry.form.password, '***');
  assert.ok((await idp.requests({ all: true })).some((r) => r.path === '/_dev/token'));
});

test('a bad seed, a TOML seed file and a missing binary', async (t) => {
  await assert.rejects(startLocalIdp({ seed: { users: [{ email: 'x@contoso.com', shoe_size: 44 }] } }), (e) => {
    assert.ok(e instanceof LocalIdpError);
    assert.match(e.message, /shoe_size/);
    return true;
  });
  await assert.rejects(startLocalIdp({ bin: '/nonexistent/localidp' }), /\/nonexistent\/localidp \(the bin option\) is not an executable/);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'kit-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'seed.toml');
  await writeFile(file, '[[tenants]]\nname = "fabrikam.onmicrosoft.com"\n\n[[users]]\nemail = "fay@fabrikam.com"\npassword = "fay-password"\n');
  const other = await startLocalIdp({ seed: file });
  t.after(() => other.stop());
  // The kit's Graph client joined the file's seed: addUser works there too.
  const user = await other.addUser({ email: 'gus@fabrikam.com', password: 'Gus-pw-12345!' });
  const token = await other.tokenFor('gus@fabrikam.com', { clientId: 'localidp-testkit' });
  assert.equal(claims(token).oid, user.id);
  assert.equal(claims(token).iss, other.issuer);
  assert.ok(claims(await other.tokenFor('fay@fabrikam.com', { clientId: 'localidp-testkit' })).oid);
});

/** Whether a process has ended (gone, or a zombie no one has reaped yet). */
async function ended(pid) {
  for (let i = 0; i < 100; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null || / Z /.test(stat.slice(stat.lastIndexOf(')')))) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

test('stop ends the server and await-using disposal stops it too', async () => {
  const other = await startLocalIdp({ seed });
  const { baseUrl, pid } = other;
  assert.equal((await fetch(`${baseUrl}/healthz`)).status, 200);
  await other[Symbol.asyncDispose]();
  assert.ok(await ended(pid));
  await assert.rejects(fetch(`${baseUrl}/healthz`));
  await other.stop(); // a second stop is harmless
});

test('a server whose test forgot stop() ends with the test process', async () => {
  const script = "import { startLocalIdp } from 'localidp'; console.log((await startLocalIdp()).pid);";
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: import.meta.dirname, timeout: 60_000,
  });
  const pid = Number(stdout.trim());
  assert.ok(pid > 0, stdout);
  assert.ok(await ended(pid), `localidp ${pid} outlived its test process`);
});
