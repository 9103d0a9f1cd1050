"""MSAL Python's confidential client against a TLS server seeded from a file; the journal
shows what MSAL sent, with the secret redacted."""
import json
from pathlib import Path

import msal
import pytest
from fastapi.testclient import TestClient

from app import make_app

SEED = Path(__file__).with_name("seed.toml")
WORKER_SECRET = "orders-worker-secret-0123456789"


@pytest.mark.localidp(seed=SEED, tls=True)
def test_msal_client_credentials_get_a_token_the_api_accepts(localidp, monkeypatch):
    assert localidp.base_url.startswith("https://") and Path(localidp.ca_file).is_file()
    # requests (under MSAL) prefers REQUESTS_CA_BUNDLE from the environment to verify=.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", localidp.ca_file)
    localidp.clear_requests()
    app = msal.ConfidentialClientApplication(
        "orders-worker",
        client_credential=WORKER_SECRET,
        authority=localidp.authority,
        instance_discovery=False,
        verify=localidp.ca_file,
    )
    result = app.acquire_token_for_client(scopes=["api://orders-api/.default"])
    assert "access_token" in result, result

    api = TestClient(make_app(localidp.jwks_uri, localidp.issuer, "orders-api", localidp.ca_file))
    res = api.get("/orders", headers={"Authorization": f"Bearer {result['access_token']}"})
    assert res.status_code == 200, res.text
    assert res.json()["sub"] == "orders-worker"

    journal = localidp.requests()
    sent = [r for r in journal if r["method"] == "POST" and r["path"].endswith("/oauth2/v2.0/token")]
    assert len(sent) == 1, journal
    form = sent[0]["form"]
    assert form["grant_type"] == "client_credentials"
    assert form["client_id"] == "orders-worker"
    assert form["client_secret"] == "***"
    assert WORKER_SECRET not in json.dumps(journal)
    localidp.clear_requests()
    assert localidp.requests() == []
