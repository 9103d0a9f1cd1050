"""A private localidp server for tests: started from a seed on port 0, stopped when done.

    with LocalIdp.start(seed={"users": [{"email": "ann@example.com", "password": "pw"}]}) as idp:
        token = idp.token_for("ann@example.com")

The pytest fixtures (``localidp``, ``localidp_session``) live in ``localidp.pytest_plugin``.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

__all__ = ["LocalIdp", "LocalIdpError", "find_binary"]
__version__ = "0.1.0"

Seed = Union[None, Mapping[str, Any], str, "os.PathLike[str]"]

# The client the kit adds to a seed that has none, so that it can mint Graph tokens.
TESTKIT_CLIENT = "localidp-testkit"
# Graph application permissions of the tokens the kit uses for add_user / add_client.
GRAPH_ROLES = [
    "User.ReadWrite.All",
    "Application.ReadWrite.All",
    "Group.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
]
# The user flows of the tenant localidp creates when the seed names none.
BOOTSTRAP_POLICIES = ["B2C_1_signupsignin", "B2C_1_ROPC"]


class LocalIdpError(Exception):
    """The server refused a request (or did not start); ``body`` is its answer."""

    def __init__(self, message: str, status: Optional[int] = None, body: Any = None):
        super().__init__(message)
        self.status = status
        self.body = body


def find_binary() -> str:
    """LOCALIDP_BIN, else the binary this package's wheel installed, else localidp on PATH."""
    explicit = os.environ.get("LOCALIDP_BIN")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise LocalIdpError(f"LOCALIDP_BIN={explicit} is not an executable file")
        return explicit
    exe = "localidp.exe" if os.name == "nt" else "localidp"
    # The wheel puts the binary in the scripts directory of the environment it went into.
    for scheme in (None, f"{os.name}_user"):
        try:
            scripts = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        candidate = Path(scripts) / exe
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("localidp")
    if on_path:
        return on_path
    raise LocalIdpError(
        "no localidp binary: set LOCALIDP_BIN, install the localidp wheel, or put localidp on PATH"
    )


def _load_seed(seed: Seed) -> Optional[Dict[str, Any]]:
    """The seed as a dict, or None when it is a file this Python cannot read (TOML before 3.11)."""
    if seed is None:
        return {}
    if isinstance(seed, Mapping):
        return json.loads(json.dumps(seed))  # a deep copy that is also JSON-clean
    path = Path(seed)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return json.loads(text)
    try:
        import tomllib
    except ImportError:
        return None
    return tomllib.loads(text)


def _in_tenant(entry: Mapping[str, Any], tenant: Optional[Mapping[str, Any]]) -> bool:
    named = entry.get("tenant")
    if named is None or tenant is None:
        return named is None
    return str(named).lower() in (str(tenant.get("name", "")).lower(), str(tenant.get("id", "")).lower())


def _death_signal() -> Optional[Any]:
    """Linux: a preexec_fn by which the server gets SIGTERM when the thread that started it
    (here the main thread, so the Python process) dies. Made in the parent: the child only
    calls it (no import or allocation between fork and exec)."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    term = int(signal.SIGTERM)
    return lambda: prctl(1, term)  # PR_SET_PDEATHSIG


_running: "set[LocalIdp]" = set()


@atexit.register
def _stop_all() -> None:
    for idp in list(_running):
        idp.stop()


class LocalIdp:
    """A running ``localidp serve --ephemeral`` child process and what tests ask of it."""

    def __init__(self) -> None:
        self._proc: Optional[subprocess.Popen] = None
        self._dir: Optional[tempfile.TemporaryDirectory] = None
        self._conn: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()
        self._ssl: Optional[ssl.SSLContext] = None
        self.base_url = ""
        self.tenant_id = ""
        self.tenant_name: Optional[str] = None
        self.issuer = ""
        self.jwks_uri = ""
        self.openid_configuration = ""
        self.token_endpoint = ""
        self.ca_file: Optional[str] = None
        self.client_id: Optional[str] = None
        self.policies: List[str] = []
        self.seed: Optional[Dict[str, Any]] = None
        self._graph_client: Optional[str] = None
        self.log_file = ""

    # ------------------------------------------------------------------ start and stop

    @classmethod
    def start(
        cls,
        seed: Seed = None,
        tls: bool = False,
        binary: Optional[str] = None,
        args: Sequence[str] = (),
        timeout: float = 30.0,
    ) -> "LocalIdp":
        """Starts a server from ``seed`` (a dict, or a .toml / .json file path) on port 0.

        Use it as a context manager, or call ``stop()``. Raises LocalIdpError with the
        server's output when it does not start (a bad seed, a missing binary)."""
        idp = cls()
        idp._start(seed, tls, binary or find_binary(), list(args), timeout)
        return idp

    def _start(self, seed: Seed, tls: bool, binary: str, args: List[str], timeout: float) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="localidp-")
        work = Path(self._dir.name)
        loaded = _load_seed(seed)
        added = self._read_seed(loaded)
        if loaded is None or (seed is not None and not isinstance(seed, Mapping) and not added):
            # A file the kit did not change goes to the server as it is.
            seed_file = str(Path(seed).resolve())  # type: ignore[arg-type]
        else:
            seed_file = str(work / "seed.json")
            Path(seed_file).write_text(json.dumps(loaded), encoding="utf-8")
        self.seed = loaded
        cmd = [binary, "serve", "--ephemeral", "--host", "127.0.0.1", "--port", "0", "--seed", seed_file]
        if tls:
            self.ca_file = str(work / "ca.pem")
            cmd += ["--tls", "--tls-ca-out", self.ca_file]
        cmd += args
        self.log_file = str(work / "server.log")
        log = open(self.log_file, "wb")
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                preexec_fn=_death_signal(),
            )
        finally:
            log.close()
        _running.add(self)
        try:
            self._read_banner(timeout)
            if tls:
                self._ssl = ssl.create_default_context(cafile=self.ca_file)
            self._wait_healthy(timeout)
            config = self._request("GET", self.openid_configuration)
            self.issuer = config["issuer"]
            self.jwks_uri = config["jwks_uri"]
            self.token_endpoint = config["token_endpoint"]
        except BaseException:
            self.stop()
            raise

    def _read_seed(self, seed: Optional[Dict[str, Any]]) -> bool:
        """Which tenant, policies and clients the kit uses by default; adds its Graph client
        when the seed has no client (then True)."""
        if seed is None:
            return False
        tenants = seed.get("tenants") or []
        first = tenants[0] if tenants else None
        if first is None:
            self.policies = list(BOOTSTRAP_POLICIES)
        else:
            self.tenant_name = first.get("name")
            self.policies = list(first.get("policies") or [])
        clients = [c for c in seed.get("clients") or [] if _in_tenant(c, first)]
        default = first.get("default_client") if first else None
        self.client_id = default or (clients[0]["client_id"] if clients else None)
        # Graph takes app tokens whose roles hold the permission; a confidential client's first.
        confidential = [c for c in clients if c.get("secret")]
        pick = confidential or clients
        if pick:
            self._graph_client = pick[0]["client_id"]
            return False
        kit = {
            "client_id": TESTKIT_CLIENT,
            "name": "localidp test kit",
            "secret": secrets.token_urlsafe(24),
            "graph_permissions": GRAPH_ROLES,
        }
        seed.setdefault("clients", []).append(kit)
        self._graph_client = TESTKIT_CLIENT
        self.client_id = self.client_id or TESTKIT_CLIENT
        return True

    def _read_banner(self, timeout: float) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        seen: List[str] = []
        result: Dict[str, str] = {}

        def read() -> None:
            assert self._proc is not None and self._proc.stdout is not None
            for raw in self._proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                seen.append(line)
                if line.strip().startswith("discovery:"):
                    result["discovery"] = line.split("discovery:", 1)[1].strip()
                    break
            # Keep draining so the server never blocks on a full pipe.
            for _ in self._proc.stdout:
                pass

        reader = threading.Thread(target=read, name="localidp-stdout", daemon=True)
        reader.start()
        while "discovery" not in result:
            if self._proc.poll() is not None:
                reader.join(1)
                raise LocalIdpError(
                    f"localidp exited with status {self._proc.returncode} before it listened:\n"
                    + "\n".join(seen)
                    + "\n"
                    + self.server_log()
                )
            if time.monotonic() > deadline:
                raise LocalIdpError(f"localidp printed no banner in {timeout}s:\n" + "\n".join(seen))
            time.sleep(0.005)
        self.openid_configuration = result["discovery"]
        # {base}/{tenant id}/v2.0/.well-known/openid-configuration
        head = self.openid_configuration.split("/v2.0/.well-known/", 1)[0]
        self.base_url, self.tenant_id = head.rsplit("/", 1)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._request("GET", "/healthz", parse=False)
                return
            except (OSError, LocalIdpError):
                if time.monotonic() > deadline or (self._proc and self._proc.poll() is not None):
                    raise LocalIdpError("localidp did not answer /healthz:\n" + self.server_log())
                time.sleep(0.01)

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its files."""
        _running.discard(self)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def server_log(self) -> str:
        """What the server wrote to stderr so far."""
        try:
            return Path(self.log_file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> "LocalIdp":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ URLs

    @property
    def authority(self) -> str:
        """The Entra ID authority, ``{base_url}/{tenant id}``."""
        return f"{self.base_url}/{self.tenant_id}"

    def b2c_authority(self, policy: Optional[str] = None) -> str:
        """The B2C authority ``{base_url}/{tenant}/{policy}`` (the tenant's first user flow by default)."""
        if policy is None:
            if not self.policies:
                raise LocalIdpError("the seed's tenant has no B2C user flows (policies)")
            policy = self.policies[0]
        return f"{self.base_url}/{self.tenant_id}/{policy}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # ------------------------------------------------------------------ HTTP

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            parts = urllib.parse.urlsplit(self.base_url)
            # localhost, as the certificate names it; the server listens on 127.0.0.1.
            if parts.scheme == "https":
                self._conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30, context=self._ssl)
            else:
                self._conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        return self._conn

    def _request(
        self,
        method: str,
        path_or_url: str,
        body: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        parse: bool = True,
    ) -> Any:
        """One request over the kept-alive connection; a 4xx/5xx raises LocalIdpError."""
        parts = urllib.parse.urlsplit(path_or_url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        sent = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["content-type"] = "application/json"
        with self._lock:
            for attempt in (0, 1):
                conn = self._connection()
                try:
                    conn.request(method, target, body=data, headers=sent)
                    res = conn.getresponse()
                    raw = res.read()
                    break
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    # The server closed an idle kept-alive connection: one retry on a new one.
                    conn.close()
                    self._conn = None
                    if attempt:
                        raise
        if res.status >= 400:
            try:
                answer: Any = json.loads(raw)
            except ValueError:
                answer = raw.decode("utf-8", "replace")
            raise LocalIdpError(f"{method} {target}: {res.status} {answer}", res.status, answer)
        if not parse or not raw:
            return None
        return json.loads(raw)

    # ------------------------------------------------------------------ tokens

    def mint(self, **fields: Any) -> Dict[str, Any]:
        """``POST /_dev/token`` with these fields (user, oid, tenant, client_id, flavour, policy,
        scope, kind, lifetime, nbf_offset, audience, issuer, claims, variant); the JSON answer."""
        body = {k: v for k, v in fields.items() if v is not None}
        if "client_id" not in body and self.client_id:
            body["client_id"] = self.client_id
        return self._request("POST", "/_dev/token", body)

    def token_for(
        self,
        email: str,
        scopes: Union[None, str, Sequence[str]] = None,
        client_id: Optional[str] = None,
        **claims: Any,
    ) -> str:
        """An access token for the user ``email`` (or user name); ``claims`` replace the token's."""
        scope = scopes if isinstance(scopes, str) or scopes is None else " ".join(scopes)
        answer = self.mint(
            user=email,
            scope=scope,
            client_id=client_id,
            kind="access",
            claims=claims or None,
        )
        return answer["access_token"]

    # ------------------------------------------------------------------ directory (Graph)

    def graph(self, method: str, path: str, body: Any = None) -> Any:
        """A Microsoft Graph request (``/v1.0/...``) with an app token holding GRAPH_ROLES."""
        token = self.mint(
            client_id=self._graph_client,
            scope="https://graph.microsoft.com/.default",
            claims={"roles": GRAPH_ROLES},
        )["access_token"]
        return self._request(method, path, body, {"authorization": f"Bearer {token}"})

    def add_user(self, email: str, password: Optional[str] = None, **fields: Any) -> Dict[str, Any]:
        """Creates a user who signs in with ``email`` (``POST /v1.0/users``); ``fields`` are more
        Graph properties (``displayName``, ``givenName``, ...). Returns Graph's user (``id`` is the
        oid) with ``password`` added (a generated one when not given)."""
        password = password or f"Pw-{secrets.token_urlsafe(12)}-9a"
        body: Dict[str, Any] = {
            "accountEnabled": True,
            "displayName": email.split("@")[0],
            "mailNickname": email.split("@")[0],
            "userPrincipalName": email,
            "mail": email,
            "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": False},
        }
        body.update(fields)
        user = self.graph("POST", "/v1.0/users", body)
        user["password"] = password
        return user

    def add_client(
        self, display_name: str = "test client", secret: bool = True, **fields: Any
    ) -> Dict[str, Any]:
        """Registers an application (``POST /v1.0/applications``) and, with ``secret``, a client
        secret (``addPassword``). Returns Graph's application with ``client_id`` (its appId) and
        ``client_secret``."""
        body: Dict[str, Any] = {"displayName": display_name}
        body.update(fields)
        app = self.graph("POST", "/v1.0/applications", body)
        app["client_id"] = app["appId"]
        if secret:
            credential = self.graph(
                "POST", f"/v1.0/applications/{app['id']}/addPassword", {"passwordCredential": {"displayName": "test"}}
            )
            app["client_secret"] = credential["secretText"]
        return app

    # ------------------------------------------------------------------ request journal

    def requests(self, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """The requests the server received, oldest first (secrets shown as ``***``)."""
        path = "/_dev/requests" + (f"?limit={int(limit)}" if limit is not None else "")
        return self._request("GET", path)["requests"]

    def clear_requests(self) -> None:
        self._request("DELETE", "/_dev/requests", parse=False)

    def __repr__(self) -> str:
        return f"LocalIdp(base_url={self.base_url!r}, tenant_id={self.tenant_id!r})"

