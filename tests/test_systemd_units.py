"""The systemd units in deploy/systemd: key settings, and `systemd-analyze verify` if present."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parent.parent / "deploy" / "systemd"
SERVICES = ("sync-job.service", "sync-job-once.service")
SECRETS = ("tiktok_app_secret", "dealpos_client_secret")
# `sync-job connect` stores the token pair in the state file: these stay commented out, since a
# LoadCredential= whose file is missing stops the unit.
OPTIONAL_SECRETS = ("tiktok_access_token", "tiktok_refresh_token")
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "UMask": "0077",
    "DynamicUser": "yes",
    "User": "sync-job",
    "StateDirectory": "sync-job",
    "StateDirectoryMode": "0700",
    "ConfigurationDirectory": "sync-job",
}
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def parse_unit(name: str) -> dict[str, dict[str, list[str]]]:
    """Read a unit file into {section: {key: [values in order]}} (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    """The single value of a key (fails when absent or repeated)."""
    values = unit[section][key]
    assert len(values) == 1, f"{key} is set {len(values)} times"
    return values[0]


def test_daemon_unit_is_a_notify_service_with_a_watchdog() -> None:
    """sync-job.service: Type=notify from the main process, a watchdog, restart on failure."""
    unit = parse_unit("sync-job.service")
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "NotifyAccess") == "main"
    assert one(unit, "Service", "WatchdogSec") == "3min"
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "ExecStart").endswith("/sync-job run")
    # The daemon exits within 30 s of SIGTERM; systemd must not SIGKILL it sooner.
    assert one(unit, "Service", "TimeoutStopSec") == "45s"
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_once_unit_is_a_oneshot_running_once() -> None:
    """sync-job-once.service runs `sync-job once` as a oneshot."""
    unit = parse_unit("sync-job-once.service")
    assert one(unit, "Service", "Type") == "oneshot"
    assert one(unit, "Service", "ExecStart").endswith("/sync-job once")
    assert "Install" not in unit  # started by the timer only


def test_timer_is_persistent_and_randomised() -> None:
    """The timer catches up missed runs after downtime and spreads its start."""
    unit = parse_unit("sync-job-once.timer")
    timer = unit["Timer"]
    assert timer["Persistent"] == ["true"]
    assert timer["RandomizedDelaySec"] and timer["OnCalendar"]
    assert one(unit, "Timer", "Unit") == "sync-job-once.service"
    assert one(unit, "Install", "WantedBy") == "timers.target"


@pytest.mark.parametrize("name", SERVICES)
def test_services_share_state_credentials_and_hardening(name: str) -> None:
    """Both services: same dynamic user and state folder, the two required credentials, hardened."""
    service = parse_unit(name)["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == [value], key
    assert "SYNC_JOB_CONFIG=/etc/sync-job/config.toml" in service["Environment"]
    credentials = dict(v.split(":", 1) for v in service["LoadCredential"])
    assert sorted(credentials) == sorted(SECRETS)
    assert all(path.startswith("/") for path in credentials.values())
    text = (UNITS / name).read_text()
    for optional in OPTIONAL_SECRETS:
        assert f"#LoadCredential={optional}:/etc/credstore/sync-job/{optional}" in text
    assert service["SystemCallFilter"][0] == "@system-service"
    assert service["CapabilityBoundingSet"] == [""]


def test_services_are_identical_below_their_own_settings() -> None:
    """The shared blocks (state, credentials, hardening) do not drift apart between the two."""
    daemon, once = (parse_unit(n)["Service"] for n in SERVICES)
    own = {"Type", "NotifyAccess", "ExecStart", "WatchdogSec", "Restart", "RestartSec"}
    own |= {"TimeoutStartSec", "Environment", "RuntimeDirectory", "RuntimeDirectoryMode"}
    own |= {"RuntimeDirectoryPreserve"}
    assert {k: v for k, v in daemon.items() if k not in own} == {
        k: v for k, v in once.items() if k not in own
    }


def test_readme_gives_the_state_path_under_systemd() -> None:
    """The README's systemd install notes point [state] path into the StateDirectory."""
    readme = (UNITS.parent.parent / "README.md").read_text()
    assert 'path = "/var/lib/sync-job/sync.db"' in readme
    assert "systemctl enable --now sync-job.service" in readme


def verifiable_copy(tmp_path: Path) -> list[Path]:
    """Copies of the units whose ExecStart points at an executable that exists here."""
    stub = tmp_path / "sync-job"
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    copies = []
    for source in sorted(UNITS.glob("sync-job*")):
        text = source.read_text().replace("/opt/sync-job/bin/sync-job", str(stub))
        copy = tmp_path / source.name
        copy.write_text(text)
        copies.append(copy)
    return copies


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the units without a single warning."""
    copies = verifiable_copy(tmp_path)
    done = subprocess.run(
        [str(SYSTEMD_ANALYZE), "verify", *map(str, copies)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "" and done.stdout.strip() == ""


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_daemon_unit_exposure_stays_low(tmp_path: Path) -> None:
    """`systemd-analyze security --offline` rates the daemon's exposure at 2.0 or better."""
    copies = {c.name: c for c in verifiable_copy(tmp_path)}
    done = subprocess.run(
        [
            str(SYSTEMD_ANALYZE),
            "security",
            "--offline=yes",
            "--threshold=20",
            str(copies["sync-job.service"]),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "--offline" in done.stderr or "--threshold" in done.stderr:
        pytest.skip("this systemd-analyze cannot rate unit files offline")
    assert done.returncode == 0, done.stdout[-2000:]
