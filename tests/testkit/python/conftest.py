"""The example suite's session seed, given as a dict."""
import pytest

from support import ALICE, ALICE_PASSWORD, API, WEB


@pytest.fixture(scope="session")
def localidp_session_seed():
    return {
        "tenants": [{"name": "contoso.onmicrosoft.com", "policies": ["B2C_1_ROPC"], "default_client": WEB}],
        "clients": [
            {"client_id": API, "secret": "orders-api-secret-0123456789", "app_roles": ["Orders.Read"]},
            {"client_id": WEB, "public": True},
        ],
        "users": [{"email": ALICE, "password": ALICE_PASSWORD, "roles": ["Orders.Admin"]}],
    }
