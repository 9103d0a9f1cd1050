"""The session-scoped server: tokens from token_for and mint against a FastAPI app that
validates them with PyJWT; every hostile variant is refused."""
import pytest
from fastapi.testclient import TestClient

from app import make_app
from localidp import LocalIdpError
from support import ALICE, API, HOSTILE_VARIANTS, get_json

SCOPE = f"api://{API}/.default"


@pytest.fixture(scope="module")
def api(localidp_session):
    return TestClient(make_app(localidp_session.jwks_uri, localidp_session.issuer, API))


def call(api, token):
    return api.get("/orders", headers={"Authorization": f"Bearer {token}"})


def test_a_seeded_users_token_is_accepted(localidp_session, api):
    res = call(api, localidp_session.token_for(ALICE, scopes=[SCOPE]))
    assert res.status_code == 200, res.text
    assert res.json()["roles"] == ["Orders.Admin"]


def test_claims_given_to_token_for_replace_the_tokens(localidp_session, api):
    res = call(api, localidp_session.token_for(ALICE, scopes=SCOPE, roles=["Orders.Read"]))
    assert res.status_code == 200, res.text
    assert res.json()["roles"] == ["Orders.Read"]


def test_a_token_for_another_api_is_refused(localidp_session, api):
    res = call(api, localidp_session.token_for(ALICE, scopes=["openid"]))
    assert res.status_code == 401
    assert "InvalidAudienceError" in res.json()["detail"]


@pytest.mark.parametrize("variant", HOSTILE_VARIANTS)
def test_every_hostile_variant_is_refused(localidp_session, api, variant):
    minted = localidp_session.mint(user=ALICE, scope=SCOPE, kind="access", variant=variant)
    res = call(api, minted["access_token"])
    assert res.status_code == 401, f"{variant} was accepted: {res.text}"


def test_the_hostile_variants_are_every_one_the_server_makes(localidp_session):
    with pytest.raises(LocalIdpError) as refused:
        localidp_session.mint(user=ALICE, variant="no-such-variant")
    assert refused.value.status == 400
    listed = refused.value.body["error_description"].split("one of:")[1]
    assert {v.strip(" .") for v in listed.split(",")} == {"valid", *HOSTILE_VARIANTS}


def test_a_b2c_token_is_accepted_by_an_app_trusting_the_b2c_authority(localidp_session):
    config = get_json(localidp_session.b2c_authority() + "/v2.0/.well-known/openid-configuration")
    b2c_api = TestClient(make_app(config["jwks_uri"], config["issuer"], API))
    minted = localidp_session.mint(user=ALICE, scope=SCOPE, kind="access", flavour="b2c")
    res = call(b2c_api, minted["access_token"])
    assert res.status_code == 200, res.text
    # The Entra app does not take the B2C issuer.
    assert call(TestClient(make_app(localidp_session.jwks_uri, localidp_session.issuer, API)), minted["access_token"]).status_code == 401
