"""A shop's runs and how far its streams have been read (the cursors).

Each run is a row from start to finish (a row still 'running' when the shop's next run starts
was killed); the status, metrics and the operator page read them. A stream's cursor (Unix
seconds) only moves forward.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync_job.domain import jsonutil
from sync_job.state.db import StoreBase


class RunTables(StoreBase):
    """The runs and cursors tables."""

    def get_cursor(self, shop_id: str, stream: str) -> int | None:
        """The cursor of one stream (Unix seconds), or None before the first run."""
        row = self._one(
            "SELECT position FROM cursors WHERE shop_id = ? AND stream = ?", (shop_id, stream)
        )
        return None if row is None else int(row["position"])

    def advance_cursor(self, shop_id: str, stream: str, position: int) -> None:
        """Move a cursor forward to `position`; it never moves backwards."""
        self.db.execute(
            "INSERT INTO cursors VALUES (?, ?, ?, ?) ON CONFLICT (shop_id, stream) DO UPDATE SET "
            "position = MAX(position, excluded.position), updated_at = excluded.updated_at",
            (shop_id, stream, position, self.now()),
        )

    def start_run(self, run_id: str, shop_id: str, mode: str) -> None:
        """Record that a run began; the shop's runs still 'running' were killed (we hold it)."""
        with self.transaction("start run"):
            self.db.execute(
                "UPDATE runs SET status = 'killed', finished_at = ?, "
                "error = 'the process ended without finishing this run' "
                "WHERE shop_id = ? AND status = 'running'",
                (self.now(), shop_id),
            )
            self.db.execute(
                "INSERT INTO runs (id, shop_id, mode, started_at, status) VALUES (?, ?, ?, ?, ?)",
                (run_id, shop_id, mode, self.now(), "running"),
            )

    def finish_run(
        self, run_id: str, status: str, counts: dict[str, Any], error: str | None
    ) -> None:
        """Record how a run ended and what it did."""
        self.db.execute(  # one statement: on disk when it returns
            "UPDATE runs SET finished_at = ?, status = ?, counts = ?, error = ? WHERE id = ?",
            (self.now(), status, jsonutil.dumps(counts), error, run_id),
        )

    def last_success(self, shop_id: str) -> float | None:
        """Unix time the shop's newest successful run finished; None if it never had one."""
        row = self.db.execute(
            "SELECT MAX(finished_at) FROM runs WHERE shop_id = ? AND status = 'ok'", (shop_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return datetime.fromisoformat(str(row[0])).timestamp()

    def last_run(self, shop_id: str) -> dict[str, Any] | None:
        """The newest run of a shop."""
        row = self._one(
            "SELECT * FROM runs WHERE shop_id = ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
            (shop_id,),
        )
        if row is None:
            return None
        run = dict(row)
        run["counts"] = jsonutil.loads(run["counts"]) if run["counts"] else {}
        return run
