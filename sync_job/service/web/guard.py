"""Who may press the page's buttons: the admin token once per session, a CSRF token per form.

The token is compared in constant time and never stored: the (signed, HttpOnly, SameSite=Strict)
session cookie only remembers that this browser gave it. A POST without a valid session, CSRF
token or configured admin token is answered 403 before anything is read or written.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

from sync_job.service.config import Secret

__all__ = ["check_post", "csrf_token", "is_admin", "sign_in", "sign_out"]


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _csrf_ok() -> bool:
    sent, expected = request.form.get("csrf", ""), session.get("csrf")
    if not isinstance(expected, str) or not sent:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def is_admin(admin_token: Secret | None) -> bool:
    """True when a (non-empty) token is configured and this session gave it."""
    return is_configured(admin_token) and session.get("admin") is True


def is_configured(admin_token: Secret | None) -> bool:
    """True when a non-empty admin token is configured."""
    return admin_token is not None and bool(admin_token.reveal())


def check_post(admin_token: Secret | None, *, signing_in: bool = False) -> None:
    """Abort 403 unless the form carries this session's CSRF token (and the session is admin)."""
    if not is_configured(admin_token) or not _csrf_ok():
        abort(403)
    if not signing_in and not is_admin(admin_token):
        abort(403)


def sign_in(admin_token: Secret | None, given: str) -> bool:
    """Remember in the session that this browser knows the token; False when it does not."""
    check_post(admin_token, signing_in=True)
    assert admin_token is not None  # check_post aborted otherwise
    if not hmac.compare_digest(given.encode(), admin_token.reveal().encode()):
        return False
    session.clear()  # a fresh session (and CSRF token) once signed in
    session["admin"] = True
    csrf_token()
    return True


def sign_out() -> None:
    """Forget the admin flag (and the CSRF token) of this session."""
    session.clear()
