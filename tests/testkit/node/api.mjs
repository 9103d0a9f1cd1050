// The application under test: a small API that takes bearer tokens and validates them
// with jose against the identity provider's JWKS, issuer and audience.
import http from 'node:http';
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';

/** Listens on a free port; `fetch` (optional) fetches the JWKS, e.g. one trusting a CA. */
export async function startApi({ jwksUri, issuer, audience, fetch }) {
  const jwks = createRemoteJWKSet(new URL(jwksUri), fetch ? { [customFetch]: fetch } : {});
  const server = http.createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return send(401, { error: 'invalid_token', error_description: 'no bearer token' });
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ['RS256'] });
      send(200, { oid: payload.oid, roles: payload.roles ?? [], scp: payload.scp ?? null });
    } catch (e) {
      // The reason, for the tests; a real API would say less.
      send(401, { error: 'invalid_token', error_description: e.code ?? e.message, claim: e.claim });
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    /** GET /me with this token: the status and the JSON answer. */
    async call(token) {
      const res = await globalThis.fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: await res.json() };
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
