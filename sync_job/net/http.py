"""HTTP sessions whose proxy and CA-bundle environment is read once, when the session is built.

With `trust_env` on, requests re-reads the whole environment on every request (the proxy
variables, `no_proxy`, ~/.netrc): on a small request about a third of its CPU. The environment
does not change under a running job, so a session here is built the documented way instead:
`trust_env = False`, the proxies the environment gives each of the client's hosts set once in
`session.proxies` (keyed "scheme://host", which requests matches per request), and the CA bundle
in `session.verify`.

Behaviour kept: HTTP(S)_PROXY / ALL_PROXY with NO_PROXY, and REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.
Dropped on purpose: ~/.netrc (every call carries its own credentials; a netrc entry for a host
would only replace them).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies, select_proxy

__all__ = ["environment_session"]


def environment_session(*urls: str) -> requests.Session:
    """A session for these base URLs, with the environment's proxies and CA bundle read now."""
    session = requests.Session()
    session.trust_env = False  # requests must not read the environment again on each request
    for url in urls:
        proxy = select_proxy(url, get_environ_proxies(url))  # None when NO_PROXY covers the host
        if proxy:
            parts = urlsplit(url)
            session.proxies[f"{parts.scheme}://{parts.hostname}"] = proxy
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    return session
