"""The application under test: a FastAPI API that accepts localidp's access tokens, validated
with PyJWT against the server's JWKS (PyJWKClient), issuer and audience, as it would accept
Entra ID's."""

import ssl
from typing import Annotated, Optional

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer


def make_app(jwks_uri: str, issuer: str, audience: str, ca_file: Optional[str] = None) -> FastAPI:
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    jwks = jwt.PyJWKClient(jwks_uri, ssl_context=context)
    bearer = HTTPBearer()
    app = FastAPI()

    def claims(credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> dict:
        token = credentials.credentials
        try:
            # alg comes from our list, never from the token (alg_none is refused here).
            key = jwks.get_signing_key_from_jwt(token)
            return jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=audience,
                issuer=issuer,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as e:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=f"{type(e).__name__}: {e}",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.get("/orders")
    def orders(who: Annotated[dict, Depends(claims)]) -> dict:
        return {"oid": who.get("oid"), "roles": who.get("roles", []), "sub": who["sub"]}

    return app
