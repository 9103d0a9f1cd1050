"""Verifies a localidp access token the way a Python API would: PyJWT's PyJWKClient
reads only the JWKS URL. Prints the verified claims as JSON; exits 1 on rejection."""
import json
import sys

import jwt

jwks_url, token, issuer, audience = sys.argv[1:5]
try:
    key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
    )
except jwt.PyJWTError as e:
    print(json.dumps({"rejected": type(e).__name__, "detail": str(e)}))
    sys.exit(1)
print(json.dumps(claims))
