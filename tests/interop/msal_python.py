"""MSAL Python against localidp over HTTPS, as an app written for Entra ID or
Azure AD B2C would use it. Takes a JSON configuration as its argument and prints one
JSON object of results; the Rust test asserts on them."""
import base64
import json
import ssl
import sys

import jwt
import msal

cfg = json.loads(sys.argv[1])
base = cfg["base"]
entra = f"{base}/{cfg['tenant_id']}"
b2c = f"{base}/{cfg['tenant_name']}/{cfg['policy']}"
api_scope = f"api://{cfg['api_app']}/Tasks.Read"


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def summary(result):
    """The parts of an MSAL result the test looks at."""
    if "access_token" in result:
        out = {"ok": True, "claims": claims(result["access_token"])}
        if "id_token_claims" in result:
            out["id_token_claims"] = result["id_token_claims"]
        return out
    return {
        "ok": False,
        "error": result.get("error"),
        "error_codes": result.get("error_codes"),
        "error_description": result.get("error_description"),
    }


out = {}

# Entra: password flow (MSAL first asks /common/userrealm on port 443), then a silent
# refresh with the refresh token it cached.
pca = msal.PublicClientApplication(cfg["public_app"], authority=entra, instance_discovery=False)
first = pca.acquire_token_by_username_password(cfg["username"], cfg["password"], scopes=[api_scope])
out["entra_password"] = summary(first)
# A user who signs in with a plain user name, not an email address.
by_name = msal.PublicClientApplication(cfg["public_app"], authority=entra, instance_discovery=False)
out["entra_password_user_name"] = summary(
    by_name.acquire_token_by_username_password(
        cfg["plain_username"], cfg["plain_password"], scopes=[api_scope]
    )
)
accounts = pca.get_accounts(username=cfg["username"])
out["entra_accounts"] = len(accounts)
if accounts:
    refreshed = pca.acquire_token_silent([api_scope], account=accounts[0], force_refresh=True)
    out["entra_refresh"] = summary(refreshed or {"error": "no token"})
    out["entra_refresh_new_token"] = bool(refreshed) and refreshed.get("access_token") != first.get("access_token")
out["entra_wrong_password"] = summary(
    pca.acquire_token_by_username_password(cfg["username"], "wrong-password", scopes=[api_scope])
)

# Multi-resource refresh token: signed in with the OIDC scopes alone, MSAL redeems its
# cached refresh token for an API, by `.default` and by a named scope.
multi = msal.PublicClientApplication(cfg["public_app"], authority=entra, instance_discovery=False)
multi.acquire_token_by_username_password(cfg["username"], cfg["password"], scopes=[])
multi_accounts = multi.get_accounts(username=cfg["username"])
if multi_accounts:
    for name, scope in [
        ("entra_second_resource_default", f"{cfg['api_app']}/.default"),
        ("entra_second_resource_named", f"api://{cfg['api_app']}/Tasks.Write"),
    ]:
        got = multi.acquire_token_silent([scope], account=multi_accounts[0])
        out[name] = summary(got or {"error": "no token"})

# B2C: the ROPC user flow.
b2c_app = msal.PublicClientApplication(cfg["public_app"], authority=b2c, instance_discovery=False)
out["b2c_password"] = summary(
    b2c_app.acquire_token_by_username_password(cfg["username"], cfg["password"], scopes=[api_scope])
)
b2c_accounts = b2c_app.get_accounts(username=cfg["username"])
if b2c_accounts:
    # Signed in for one API; the user flow's refresh token reaches another.
    got = b2c_app.acquire_token_silent(
        [f"api://{cfg['web_app']}/Files.Read"], account=b2c_accounts[0]
    )
    out["b2c_second_resource"] = summary(got or {"error": "no token"})
out["b2c_wrong_password"] = summary(
    b2c_app.acquire_token_by_username_password(cfg["username"], "wrong-password", scopes=[api_scope])
)

# Client credentials, right and wrong secret.
cca = msal.ConfidentialClientApplication(
    cfg["web_app"], client_credential=cfg["web_secret"], authority=entra, instance_discovery=False
)
app_token = cca.acquire_token_for_client(scopes=[f"api://{cfg['api_app']}/.default"])
out["client_credentials"] = summary(app_token)
bad = msal.ConfidentialClientApplication(
    cfg["web_app"], client_credential="not-the-secret", authority=entra, instance_discovery=False
)
out["wrong_secret"] = summary(bad.acquire_token_for_client(scopes=[f"api://{cfg['api_app']}/.default"]))

# On-behalf-of: the web app trades Alice's token (its audience) for one to the API.
for_web = pca.acquire_token_by_username_password(
    cfg["username"], cfg["password"], scopes=[f"api://{cfg['web_app']}/access_as_user"]
)
out["obo"] = summary(cca.acquire_token_on_behalf_of(for_web.get("access_token", ""), scopes=[api_scope]))
# A token from another tenant is refused.
fabrikam = msal.ConfidentialClientApplication(
    cfg["foreign_app"], client_credential=cfg["foreign_secret"],
    authority=f"{base}/{cfg['foreign_tenant_id']}", instance_discovery=False,
)
foreign = fabrikam.acquire_token_by_username_password(
    cfg["foreign_username"], cfg["foreign_password"], scopes=[f"api://{cfg['foreign_app']}/access"]
)
out["foreign_password"] = summary(foreign)
out["obo_foreign_tenant"] = summary(
    cca.acquire_token_on_behalf_of(foreign.get("access_token", "x.y.z"), scopes=[api_scope])
)

# PyJWT verifies MSAL's access token from the JWKS URL alone.
if app_token.get("access_token"):
    ctx = ssl.create_default_context(cafile=cfg["ca"])
    client = jwt.PyJWKClient(f"{base}/{cfg['tenant_id']}/discovery/v2.0/keys", ssl_context=ctx)
    key = client.get_signing_key_from_jwt(app_token["access_token"])
    verified = jwt.decode(
        app_token["access_token"], key.key, algorithms=["RS256"],
        audience=cfg["api_app"], issuer=f"{entra}/v2.0",
    )
    out["pyjwt_verified_oid"] = verified["oid"]

print(json.dumps(out))
