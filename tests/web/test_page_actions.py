"""The page's buttons: admin token once per session, CSRF per form, POST only, 403 otherwise;
and they change the state through the same Store functions as the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from sync_job.service.web import create_app
from sync_job.state.store import Store
from sync_job.state.verify_requests import pending_verify_requests
from tests.web.pagestate import SHOP, TOKEN, fill, settings

PAGE = f"/shop/{SHOP}"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A filled state file: one quarantined order (5990001) and one attention item."""
    path = tmp_path / "sync.db"
    fill(path).close()
    return path


def csrf(c: FlaskClient) -> str:
    """This test client's session CSRF token (made by a GET)."""
    c.get(PAGE)
    with c.session_transaction() as session:
        token: str = session["csrf"]
    return token


def signed_in(path: Path) -> tuple[FlaskClient, str]:
    """A client that gave the admin token, and its CSRF token."""
    c = create_app(settings(path)).test_client()
    response = c.post("/sign-in", data={"csrf": csrf(c), "token": TOKEN, "next": PAGE})
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    return c, csrf(c)


def outbox_states(path: Path) -> list[str]:
    """The states of the quarantined order's outbox rows."""
    store = Store.open(path)
    try:
        return [r.state for r in store.get_outbox_for_order(SHOP, "5990001")]
    finally:
        store.close()


def open_items(path: Path) -> list[str]:
    """Messages of the open attention items."""
    store = Store.open(path)
    try:
        return [a["message"] for a in store.open_attention(SHOP)]
    finally:
        store.close()


def test_retry_puts_the_quarantined_action_back(state: Path) -> None:
    """Retry with the token and CSRF: the action is pending again, as after `sync-job retry`."""
    c, token = signed_in(state)
    assert 'action="/shop/7495000000000000042/retry"' in c.get(PAGE).get_data(as_text=True)
    response = c.post(f"{PAGE}/retry", data={"csrf": token, "order_id": "5990001"})
    assert response.status_code == 303
    assert outbox_states(state) == ["pending"]
    assert "1 action(s) back in the queue" in c.get(PAGE).get_data(as_text=True)


def test_done_resolves_the_item(state: Path) -> None:
    """Done with the token: the item leaves the open list and shows under resolved ones."""
    c, token = signed_in(state)
    store = Store.open(state)
    item_id = store.db.execute("SELECT id FROM attention").fetchone()[0]
    store.close()
    assert c.post(f"{PAGE}/done", data={"csrf": token, "id": str(item_id)}).status_code == 303
    assert open_items(state) == []
    assert "refused 0" in c.get(f"{PAGE}?a_resolved=1").get_data(as_text=True)
    c.post(f"{PAGE}/done", data={"csrf": token, "id": "424242"})
    assert "Item 424242 was not found" in c.get(PAGE).get_data(as_text=True)


def test_without_a_configured_token_the_page_is_read_only(state: Path) -> None:
    """No admin token: no buttons, no sign-in, and every POST is 403."""
    c = create_app(settings(state, token=None)).test_client()
    html = c.get(PAGE).get_data(as_text=True)
    assert "read-only" in html and 'method="post"' not in html
    token = "t" * 43
    with c.session_transaction() as session:  # even a session claiming admin with a CSRF token
        session.update(csrf=token, admin=True)
    for url, data in [
        (f"{PAGE}/retry", {"csrf": token, "order_id": "5990001"}),
        (f"{PAGE}/done", {"csrf": token, "id": "1"}),
        ("/sign-in", {"csrf": token, "token": TOKEN}),
    ]:
        assert c.post(url, data=data).status_code == 403
    assert outbox_states(state) == ["quarantined"] and open_items(state) == ["refused 0"]


def test_not_signed_in_has_no_buttons_and_a_forged_post_is_403(state: Path) -> None:
    """Token configured but not given in this session: no buttons; a POST is 403."""
    c = create_app(settings(state)).test_client()
    html = c.get(PAGE).get_data(as_text=True)
    assert "Sign in to act" in html and "Retry</button>" not in html and "Done</button>" not in html
    assert c.post(f"{PAGE}/retry", data={"order_id": "5990001"}).status_code == 403
    assert c.post(f"{PAGE}/retry", data={"csrf": csrf(c), "order_id": "5990001"}).status_code == 403
    assert outbox_states(state) == ["quarantined"]


def test_signed_in_post_without_the_csrf_token_is_403(state: Path) -> None:
    """A cross-site form (the session cookie but not the CSRF token) is refused."""
    c, _token = signed_in(state)
    assert c.post(f"{PAGE}/retry", data={"order_id": "5990001"}).status_code == 403
    assert (
        c.post(f"{PAGE}/retry", data={"csrf": "x" * 43, "order_id": "5990001"}).status_code == 403
    )
    assert outbox_states(state) == ["quarantined"]


def test_wrong_token_does_not_sign_in(state: Path) -> None:
    """A wrong token leaves the session without buttons and says so."""
    c = create_app(settings(state)).test_client()
    c.post("/sign-in", data={"csrf": csrf(c), "token": TOKEN + "x", "next": PAGE})
    html = c.get(PAGE).get_data(as_text=True)
    assert "That is not the admin token" in html and "Retry</button>" not in html


def test_actions_are_post_only(state: Path) -> None:
    """GET on an action is 405: links, prefetchers and crawlers change nothing."""
    c, _token = signed_in(state)
    assert c.get(f"{PAGE}/retry?order_id=5990001").status_code == 405
    assert outbox_states(state) == ["quarantined"]


def test_sign_in_never_redirects_off_site(state: Path) -> None:
    """`next` may only be a path on this page, never another host."""
    c = create_app(settings(state)).test_client()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = c.post("/sign-in", data={"csrf": csrf(c), "token": "no", "next": target})
        assert response.headers["Location"] == "/"


def test_an_empty_token_never_unlocks_the_buttons(state: Path) -> None:
    """A token that is empty (e.g. a config read without secrets) counts as no token at all."""
    c = create_app(settings(state, token="")).test_client()
    assert "Sign in to act" not in c.get(PAGE).get_data(as_text=True)
    with c.session_transaction() as session:
        session.update(csrf="t" * 43)
    assert c.post("/sign-in", data={"csrf": "t" * 43, "token": ""}).status_code == 403
    with c.session_transaction() as session:
        session.update(admin=True)
    assert (
        c.post(f"{PAGE}/retry", data={"csrf": "t" * 43, "order_id": "5990001"}).status_code == 403
    )
    assert outbox_states(state) == ["quarantined"]


def test_verify_yesterday_asks_the_daemon_for_a_verify(state: Path) -> None:
    """With the token: one request for yesterday (in the shop's zone), shown as asked for."""
    c, token = signed_in(state)
    assert "Verify yesterday</button>" in c.get(PAGE).get_data(as_text=True)
    assert c.post(f"{PAGE}/verify", data={"csrf": token}).status_code == 303
    c.post(f"{PAGE}/verify", data={"csrf": token})  # twice is still one request
    store = Store.open(state)
    try:
        assert pending_verify_requests(store) == [(SHOP, date(2027, 1, 14))]
    finally:
        store.close()
    html = c.get(PAGE).get_data(as_text=True)
    assert "verify of 2027-01-14 asked for" in html and "Verify yesterday</button>" not in html


def test_verify_yesterday_needs_the_token(state: Path) -> None:
    """Not signed in: no button, and the POST is 403 with nothing asked for."""
    c = create_app(settings(state)).test_client()
    assert "Verify yesterday" not in c.get(PAGE).get_data(as_text=True)
    assert c.post(f"{PAGE}/verify", data={"csrf": csrf(c)}).status_code == 403
    store = Store.open(state)
    try:
        assert pending_verify_requests(store) == []
    finally:
        store.close()
