"""The error vocabulary shared by both API clients, the pusher and the commands.

Each remote failure is classified once, in its client, into one of these classes; every caller
asks only "which class is it?" (retry, refresh, quarantine or give up).
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class of every error this program raises on purpose."""


class ConfigError(SyncError):
    """The configuration is unusable; `key` names the offending setting."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config: {key}: {problem}")
        self.key = key
        self.problem = problem


class StateError(SyncError):
    """The state file cannot be used (damaged, not writable, a folder, from a newer version).

    The message names the file and what to do; `exit_code` is 2 when the config points at
    something that can never work (a folder), else 1.
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RemoteError(SyncError):
    """A remote API answered with (or failed with) something other than success."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | str | None = None,
        body_head: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body_head = body_head


class TransientError(RemoteError):
    """Worth retrying later: connection trouble, timeouts, 429, 5xx, TikTok internal errors."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class OutcomeUnknown(TransientError):
    """The request left but no answer came back: it may or may not have been applied."""


class PermanentError(RemoteError):
    """Retrying will not help (validation errors, other 4xx): quarantine the action."""


class NotFound(PermanentError):
    """What the call named does not exist remotely (HTTP 404)."""


class Conflict(PermanentError):
    """It exists already (DealPOS: a duplicate invoice Number)."""


class AuthError(RemoteError):
    """Credentials were refused even after one refresh / re-authentication."""


class TokenExpired(RemoteError):
    """TikTok said the access token expired (code 105002): refresh and retry once."""


class TokenRevoked(RemoteError):
    """TikTok refused the access token as invalid (36009004, HTTP 401): revoked or replaced.

    Re-read the stored pair (another process may have refreshed it), refresh once, then give up
    with an AuthError that says to run `sync-job connect` again.
    """


class InvalidTimestamp(RemoteError):
    """TikTok rejected the request timestamp (36009004, timestamp case): re-stamp and retry once."""


class ConfigRefused(PermanentError):
    """DealPOS refused an action for a configured name it lacks (outlet, payment method,
    customer): the config's fault."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class Stopped(SyncError):
    """A stop was requested (SIGTERM/SIGINT): the run ends at its next safe point."""
