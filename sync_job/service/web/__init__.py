"""The operator page: a Flask app over the state database, served by waitress on its own thread."""

from __future__ import annotations

from sync_job.domain.errors import ConfigError
from sync_job.service.config import Config
from sync_job.service.serve import ServerThread, start_server
from sync_job.service.web.app import PageSettings, create_app

__all__ = ["PageSettings", "create_app", "start_web_if_configured"]

# Waitress worker threads for the page: a flood of requests queues behind these few, and the
# daemon's cycle runs on threads of its own.
WEB_THREADS = 4


def start_web_if_configured(config: Config) -> ServerThread | None:
    """Serve the operator page on `[web] listen` (and only there); None when it is not set."""
    if config.web.listen is None:
        return None
    app = create_app(PageSettings.from_config(config))
    try:
        return start_server(app, config.web.listen, name="sync-job-web", threads=WEB_THREADS)
    except OSError as exc:  # port taken, address not on this host, no permission
        problem = exc.strerror or str(exc)
        raise ConfigError(
            "web.listen", f"cannot listen on {config.web.listen}: {problem}"
        ) from None
