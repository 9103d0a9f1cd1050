"""Starting and stopping, errors, and clients added over Graph (the factory fixture)."""
import urllib.error
import urllib.request

import pytest

from localidp import LocalIdp, LocalIdpError
from support import post_form


def test_a_bad_seed_fails_the_start_with_the_servers_message(localidp_factory):
    with pytest.raises(LocalIdpError) as refused:
        localidp_factory(seed={"users": [{"email": "x@example.com", "shoeSize": 44}]})
    assert "shoeSize" in str(refused.value)


def test_a_stopped_server_answers_no_more(localidp_factory):
    idp = localidp_factory()
    url = idp.url("/healthz")
    with urllib.request.urlopen(url) as res:
        assert res.status == 200
    idp.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)


def test_the_context_manager_stops_the_server():
    with LocalIdp.start() as idp:
        url = idp.url("/healthz")
        assert urllib.request.urlopen(url).status == 200
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)


def test_graph_errors_carry_the_servers_body(localidp_factory):
    idp = localidp_factory()
    idp.add_user("dup@example.com")
    with pytest.raises(LocalIdpError) as refused:
        idp.add_user("dup@example.com")
    assert refused.value.status == 400
    assert refused.value.body["error"]["code"] == "Request_BadRequest"


def test_a_client_added_over_graph_gets_tokens_with_its_secret(localidp_factory):
    idp = localidp_factory()
    client = idp.add_client("reports")
    status, answer = post_form(
        idp.token_endpoint,
        {
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "scope": f"api://{client['client_id']}/.default",
        },
    )
    assert status == 200, answer
    status, answer = post_form(
        idp.token_endpoint,
        {
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": "wrong",
            "scope": f"api://{client['client_id']}/.default",
        },
    )
    assert status == 401, answer
