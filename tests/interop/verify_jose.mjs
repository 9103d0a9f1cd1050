// Verifies a localidp access token the way a Node API would: jose's
// createRemoteJWKSet reads only the JWKS URL. Prints the verified claims as JSON;
// exits 1 on rejection.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, token, issuer, audience] = process.argv.slice(2);
try {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ['RS256'],
    requiredClaims: ['exp', 'iat', 'nbf', 'sub'],
  });
  console.log(JSON.stringify({ ...payload, _kid: protectedHeader.kid }));
} catch (e) {
  console.log(JSON.stringify({ rejected: e.code ?? e.name, detail: e.message }));
  process.exit(1);
}
