"""Function-scoped servers: each test gets its own, from this module's seed (a dict) or
from a marker; users added over Graph sign in with the password grant."""
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from app import make_app
from support import claims_of, post_form

NOTES = "notes-web"


@pytest.fixture
def localidp_seed():
    return {"clients": [{"client_id": NOTES, "public": True}]}


def test_a_user_added_over_graph_signs_in_with_the_password_grant(localidp):
    bob = localidp.add_user("bob@contoso.com", displayName="Bob Jones")
    status, answer = post_form(
        localidp.token_endpoint,
        {
            "grant_type": "password",
            "client_id": NOTES,
            "username": "bob@contoso.com",
            "password": bob["password"],
            "scope": "openid",
        },
    )
    assert status == 200, answer
    api = TestClient(make_app(localidp.jwks_uri, localidp.issuer, NOTES))
    for token in (answer["access_token"], localidp.token_for("bob@contoso.com")):
        res = api.get("/orders", headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 200, res.text
        assert res.json()["oid"] == bob["id"]
    assert claims_of(answer["id_token"])["name"] == "Bob Jones"


def test_each_test_has_a_server_of_its_own(localidp):
    # The user the test above added is not here.
    found = localidp.graph("GET", "/v1.0/users?$filter=" + quote("mail eq 'bob@contoso.com'"))
    assert found["value"] == []
    assert localidp.client_id == NOTES


@pytest.mark.localidp(seed={"tenants": [{"name": "b2c.onmicrosoft.com", "policies": ["B2C_1_susi", "B2C_1_ROPC"]}]})
def test_a_marker_gives_the_seed(localidp):
    assert localidp.tenant_name == "b2c.onmicrosoft.com"
    assert localidp.b2c_authority() == f"{localidp.base_url}/{localidp.tenant_id}/B2C_1_susi"
    assert localidp.b2c_authority("B2C_1_ROPC").endswith("/B2C_1_ROPC")
    assert localidp.authority == f"{localidp.base_url}/{localidp.tenant_id}"
    assert localidp.issuer == f"{localidp.authority}/v2.0"
