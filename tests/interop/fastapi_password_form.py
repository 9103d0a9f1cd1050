"""A FastAPI app whose /token route is localidp: its OAuth2PasswordBearer names
localidp's /auth/token as tokenUrl, and a protected route validates the bearer token
from localidp's JWKS with PyJWT and reads sub and exp.

As Swagger UI's "Authorize" dialog and scripts do, the caller posts the
OAuth2PasswordRequestForm fields (username, password, scope; no client_id) to the
tokenUrl from the app's OpenAPI document: once with grant_type=password, once without.

Usage: fastapi_password_form.py IDP_URL USERNAME PASSWORD ISSUER AUDIENCE
Prints JSON; exits 1 when a step fails."""
import json
import sys
from typing import Annotated

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from fastapi.testclient import TestClient

idp, username, password, issuer, audience = sys.argv[1:6]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=f"{idp}/auth/token")
jwks = jwt.PyJWKClient(f"{idp}/.well-known/jwks.json")
app = FastAPI()


def current_claims(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        key = jwks.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as e:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=f"{type(e).__name__}: {e}",
            headers={"WWW-Authenticate": "Bearer"},
        )


@app.get("/me")
def me(claims: Annotated[dict, Depends(current_claims)]) -> dict:
    return {"sub": claims["sub"], "exp": claims["exp"]}


def fail(step: str, detail) -> None:
    print(json.dumps({"failed": step, "detail": detail}))
    sys.exit(1)


client = TestClient(app)
schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
token_url = schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"]

out = {"token_url": token_url}
forms = {
    "with_grant_type": {"grant_type": "password", "username": username, "password": password, "scope": ""},
    "without_grant_type": {"username": username, "password": password},
}
for name, form in forms.items():
    res = httpx.post(token_url, data=form)
    if res.status_code != 200:
        fail(f"{name}: token", {"status": res.status_code, "body": res.text})
    tokens = res.json()
    if tokens.get("token_type", "").lower() != "bearer":
        fail(f"{name}: token_type", tokens)
    token = tokens["access_token"]
    res = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    if res.status_code != 200:
        fail(f"{name}: /me", {"status": res.status_code, "body": res.text})
    out[name] = {"access_token": token, "me": res.json()}

# The app refuses a request without a token, and a tampered one.
out["no_token_status"] = client.get("/me").status_code
header, payload, signature = out["with_grant_type"]["access_token"].split(".")
tampered = ".".join([header, payload[::-1], signature])
out["tampered_status"] = client.get("/me", headers={"Authorization": f"Bearer {tampered}"}).status_code
# A wrong password is the OAuth error a FastAPI app passes on.
res = httpx.post(token_url, data={"username": username, "password": password + "-wrong"})
out["wrong_password"] = {"status": res.status_code, "body": res.json()}
print(json.dumps(out))
