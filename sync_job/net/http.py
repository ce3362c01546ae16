"""HTTP sessions that read the proxy and CA-bundle environment once per host, not per request.

With `trust_env` on, requests re-reads the whole environment twice on every request (the proxy
variables, then `no_proxy`) and looks for ~/.netrc: on a small request that is about a third of
its CPU. The environment does not change under a running job, so a session here resolves it once
per scheme and host, keeps the answer, and turns requests' per-request reading off.

Behaviour kept: HTTP(S)_PROXY / ALL_PROXY with NO_PROXY, and REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.
Dropped on purpose: ~/.netrc (every call carries its own credentials; a netrc entry for a host
would only replace them).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies

if TYPE_CHECKING:
    from requests.sessions import _Settings  # the stubs' name for the merged settings

__all__ = ["EnvOnceSession"]


class EnvOnceSession(requests.Session):
    """A requests.Session whose environment settings are resolved once per scheme and host."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # requests must not read the environment again on each request
        self._environment: dict[str, tuple[dict[str, str], str | None]] = {}

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: Any,
        stream: Any,
        verify: Any,
        cert: Any,
    ) -> _Settings:
        """requests' merge, with the environment's proxies and CA bundle read from the cache."""
        env_proxies, ca_bundle = self._environment_of(str(url or ""))
        if env_proxies:
            proxies = {**env_proxies, **(proxies or {})}  # explicit proxies win, as in requests
        if verify is True or verify is None:
            verify = ca_bundle or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def _environment_of(self, url: str) -> tuple[dict[str, str], str | None]:
        """The proxies and CA bundle the environment gives this URL's scheme and host."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._environment:
            ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            self._environment[key] = (dict(get_environ_proxies(url)), ca_bundle)
        return self._environment[key]
