"""pytest fixtures for localidp (registered through the ``pytest11`` entry point).

- ``localidp``: a server for one test, from ``localidp_seed`` or the test's
  ``@pytest.mark.localidp(seed=..., tls=...)`` marker;
- ``localidp_session``: one server for the whole run, from ``localidp_session_seed`` and
  ``localidp_session_options``;
- ``localidp_factory``: starts more servers in a test (``localidp_factory(seed=..., tls=True)``),
  each stopped when the test ends.

A seed is a dict with the seed file's fields, a path to a .toml or .json seed file, or None.
Override the seed fixtures in a conftest.py or a test module, as pytest overrides any fixture.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List

import pytest

from . import LocalIdp, Seed


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "localidp(seed=None, tls=False, args=()): the seed and options of this test's `localidp` server",
    )


@pytest.fixture(scope="session")
def localidp_session_seed() -> Seed:
    """The seed of ``localidp_session`` (and the default of ``localidp_seed``): none."""
    return None


@pytest.fixture(scope="session")
def localidp_session_options() -> Dict[str, Any]:
    """More arguments of ``LocalIdp.start`` for ``localidp_session``, e.g. ``{"tls": True}``."""
    return {}


@pytest.fixture
def localidp_seed(localidp_session_seed: Seed) -> Seed:
    """The seed of the function-scoped ``localidp``: the session's unless overridden."""
    return localidp_session_seed


@pytest.fixture(scope="session")
def localidp_session(localidp_session_seed: Seed, localidp_session_options: Dict[str, Any]) -> Iterator[LocalIdp]:
    """One server for the whole test session."""
    with LocalIdp.start(seed=localidp_session_seed, **localidp_session_options) as idp:
        yield idp


@pytest.fixture
def localidp(request: pytest.FixtureRequest, localidp_seed: Seed) -> Iterator[LocalIdp]:
    """A server of its own for one test; a ``localidp`` marker's seed and options win."""
    options: Dict[str, Any] = {"seed": localidp_seed}
    marker = request.node.get_closest_marker("localidp")
    if marker is not None:
        if marker.args:
            options["seed"] = marker.args[0]
        options.update(marker.kwargs)
    with LocalIdp.start(**options) as idp:
        yield idp


@pytest.fixture
def localidp_factory() -> Iterator[Callable[..., LocalIdp]]:
    """``localidp_factory(seed=None, tls=False, ...)`` starts a server, stopped after the test."""
    started: List[LocalIdp] = []

    def start(seed: Seed = None, **options: Any) -> LocalIdp:
        idp = LocalIdp.start(seed=seed, **options)
        started.append(idp)
        return idp

    yield start
    for idp in started:
        idp.stop()
