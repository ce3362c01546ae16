"""The webhook receiver: TikTok Shop POSTs order changes here while `sync-job run` serves it.

Every answer is quick and says only what happened: 401 (signature wrong, nothing stored), 413
(body over 64 KiB), 400 (not JSON, or no `type`), 503 (the state database is busy: TikTok
retries), else 200 once the notification is on disk, or is a repeat, or names a shop this job
does not sync. The stored notification wakes the trigger; polling stays the source of truth, so
anything refused here costs only latency. Neither the body nor the header is ever logged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

import structlog
from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from sync_job.domain.notification import BadNotification, Notification, parse_notification
from sync_job.service.config import Config
from sync_job.service.serve import ServerThread, start_server
from sync_job.state.inbox import InboxWriter
from sync_job.tiktok.signing import verify_webhook

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Answering threads: more of them let a burst share each commit (see InboxWriter), still bounded.
RECEIVER_THREADS = 8


@dataclass
class Receiver:
    """What answering a notification needs: the app's credentials, the shops, the inbox."""

    app_key: str
    app_secret: str
    shop_ids: Collection[str]
    inbox: InboxWriter
    on_stored: Callable[[], None] = lambda: None

    def answer(self, body: bytes, authorization: str) -> tuple[int, str]:
        """Check, parse and store one delivery; return (HTTP status, short reason)."""
        if not verify_webhook(self.app_key, self.app_secret, body, authorization):
            self.inbox.count("rejected")
            log.warning("webhook refused: bad signature", size=len(body))
            return 401, "bad signature"
        try:
            note = parse_notification(body)
        except BadNotification as exc:
            self.inbox.count("rejected")
            log.warning("webhook refused: unusable body", problem=str(exc))
            return 400, str(exc)
        if note.shop_id not in self.shop_ids:
            self.inbox.count("unknown_shop")
            log.warning("webhook for a shop this job does not sync, ignored", shop_id=note.shop_id)
            return 200, "unknown shop, ignored"
        return self._store(note)

    def _store(self, note: Notification) -> tuple[int, str]:
        kept = note if note.names_order else replace(note, order_id=None)
        try:
            new = self.inbox.store(kept)
        except sqlite3.Error as exc:  # busy past the wait, disk full: TikTok will retry
            log.error("webhook not stored; answered 503", error=str(exc))
            return 503, "not stored, retry later"
        if not new:
            log.info("webhook repeated, ignored", notification_id=note.notification_id)
            return 200, "duplicate, ignored"
        log.info(
            "webhook stored",
            notification_id=note.notification_id,
            shop_id=note.shop_id,
            type=note.type,
            order_id=kept.order_id,
        )
        self.on_stored()
        return 200, "stored"


def create_webhook_app(receiver: Receiver, path: str) -> Flask:
    """A Flask app answering `POST {path}` (any other method 405, other paths 404)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    def notification() -> Response:
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            receiver.inbox.count("rejected")
            log.warning("webhook refused: body over 64 KiB", size=request.content_length)
            return _reply(413, "body over 64 KiB")
        return _reply(*receiver.answer(body, request.headers.get("Authorization", "")))

    app.add_url_rule(path, "notification", notification, methods=["POST"])
    return app


def _reply(status: int, message: str) -> Response:
    body = json.dumps({"code": 0 if status == 200 else status, "message": message})
    return Response(body, status, mimetype="application/json")


@dataclass
class RunningReceiver:
    """The receiver's server thread and its own state connection."""

    server: ServerThread
    inbox: InboxWriter

    @property
    def port(self) -> int:
        """The port bound (useful with port 0 in tests)."""
        return self.server.port

    def stop(self) -> None:
        """Stop answering, then close the connection."""
        self.server.stop()
        self.inbox.close()


def start_receiver(config: Config, on_stored: Callable[[], None]) -> RunningReceiver | None:
    """Serve `[webhook]` when `listen` is set; a bind failure is logged (polling goes on)."""
    listen = config.webhook.listen
    if listen is None:
        return None
    writer = InboxWriter.open(config.state.path)
    receiver = Receiver(
        config.tiktok.app_key,
        config.tiktok.app_secret.reveal(),
        frozenset(s.id for s in config.tiktok.shops),
        writer,
        on_stored,
    )
    try:
        app = create_webhook_app(receiver, config.webhook.path)
        server = start_server(app, listen, name="webhook", threads=RECEIVER_THREADS)
    except OSError as exc:
        writer.close()
        # Polling is the source of truth: say so loudly and keep syncing without webhooks.
        log.error(
            "webhook listener failed; running on polling alone", listen=listen, error=str(exc)
        )
        return None
    log.info("receiving webhooks", address=server.address, path=config.webhook.path)
    return RunningReceiver(server, writer)
