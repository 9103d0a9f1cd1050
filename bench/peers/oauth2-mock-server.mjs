// oauth2-mock-server as a benchmark peer for bench/run.sh.
//
//   node oauth2-mock-server.mjs PORT [KEY.json]
//
// Token endpoint POST /token (any client, client_credentials signs an RS256
// JWT), JWKS at GET /jwks. KEY.json holds an RSA-2048 private JWK: read when the
// file exists, generated (keys.generate('RS256')) and written when it does not,
// and generated without being kept when no file is given (the "ephemeral" start).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number(process.argv[2]);
const keyFile = process.argv[3];

const server = new OAuth2Server();
if (keyFile && existsSync(keyFile)) {
  await server.issuer.keys.add(JSON.parse(readFileSync(keyFile, 'utf8')));
} else {
  const jwk = await server.issuer.keys.generate('RS256');
  if (keyFile) writeFileSync(keyFile, JSON.stringify(jwk), { mode: 0o600 });
}
await server.start(port, '127.0.0.1');
console.log(`oauth2-mock-server listening on ${server.issuer.url}`);
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.stop().then(() => process.exit(0)));
}
