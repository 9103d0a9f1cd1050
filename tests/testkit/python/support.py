"""Names the example suite shares, and a form POST with the standard library."""
from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional, Tuple

ALICE = "alice@contoso.com"
ALICE_PASSWORD = "Alice-pw-1"
API = "orders-api"
WEB = "orders-web"
# Every hostile token /_dev/token makes (README "Tokens for tests"); an app must refuse each.
HOSTILE_VARIANTS = ["expired", "not_yet_valid", "wrong_audience", "wrong_issuer", "foreign_key", "alg_none"]


def post_form(url: str, fields: dict, ca_file: Optional[str] = None) -> Tuple[int, dict]:
    """POSTs an application/x-www-form-urlencoded body; the status and the JSON answer."""
    data = urllib.parse.urlencode(fields).encode()
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), context=context) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def get_json(url: str, ca_file: Optional[str] = None) -> dict:
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    with urllib.request.urlopen(url, context=context) as res:
        return json.load(res)


def claims_of(token: str) -> dict:
    """The payload of a JWT, unverified (to read what a test asserts on)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
