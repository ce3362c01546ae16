"""Run one simulator standalone: `python -m sync_job.sandbox tiktok|dealpos [--port N] ...`."""

from __future__ import annotations

import argparse
import threading

from sync_job.sandbox import defaults
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.faults import FaultConfig
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.sandbox.server import LoopbackServer
from sync_job.sandbox.tiktok_sim import TikTokSimulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sync_job.sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="which", required=True)
    tiktok = sub.add_parser("tiktok", help="TikTok Shop simulator with the order generator")
    dealpos = sub.add_parser("dealpos", help="DealPOS simulator")
    for p in (tiktok, dealpos):
        p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--token-lifetime", type=float, help="access token lifetime, seconds")
        p.add_argument("--fault-429", type=float, default=0.0, help="share of calls answering 429")
        p.add_argument("--fault-500", type=float, default=0.0, help="share of calls answering 500")
        p.add_argument("--fault-slow", type=float, default=0.0, help="share of slow calls")
        p.add_argument("--fault-drop", type=float, default=0.0, help="share of dropped connections")
        p.add_argument("--slow-seconds", type=float, default=35.0)
    tiktok.add_argument(
        "--orders-per-minute", type=float, default=6.0, help="0 disables the generator"
    )
    tiktok.add_argument("--rate-limit-per-second", type=int, default=50)
    dealpos.add_argument("--rate-limit", type=int, default=50)
    dealpos.add_argument("--rate-window", type=float, default=180.0)
    dealpos.add_argument(
        "--fault-lost", type=float, default=0.0, help="share of writes applied, answer lost"
    )
    return parser


def _faults(args: argparse.Namespace) -> FaultConfig:
    return FaultConfig(
        rate_limited=args.fault_429,
        server_error=args.fault_500,
        slow=args.fault_slow,
        dropped=args.fault_drop,
        lost_response=getattr(args, "fault_lost", 0.0),
        slow_seconds=args.slow_seconds,
        seed=args.seed,
    )


def _tiktok(args: argparse.Namespace) -> tuple[TikTokSimulator, LifecycleGenerator | None]:
    lifetime = {"token_lifetime_seconds": args.token_lifetime} if args.token_lifetime else {}
    sim = defaults.tiktok_simulator(
        faults=_faults(args),
        rate_limit_per_second=args.rate_limit_per_second,
        seed=args.seed,
        port=args.port,
        **lifetime,
    )
    if args.orders_per_minute <= 0:
        return sim, None
    generator = LifecycleGenerator(
        sim, defaults.TIKTOK_SHOP_ID, seed=args.seed, orders_per_minute=args.orders_per_minute
    )
    return sim, generator


def _dealpos(args: argparse.Namespace) -> DealposSimulator:
    lifetime = {"token_lifetime_seconds": args.token_lifetime} if args.token_lifetime else {}
    return defaults.dealpos_simulator(
        rate_limit=args.rate_limit,
        rate_window_seconds=args.rate_window,
        faults=_faults(args),
        seed=args.seed,
        port=args.port,
        **lifetime,
    )


def _describe(server: LoopbackServer, args: argparse.Namespace) -> str:
    if args.which == "tiktok":
        return (
            f"TikTok Shop simulator at {server.url} (API and auth host)\n"
            f"  app_key={defaults.TIKTOK_APP_KEY} app_secret={defaults.TIKTOK_APP_SECRET}\n"
            f"  shop_id={defaults.TIKTOK_SHOP_ID} cipher={defaults.TIKTOK_SHOP_CIPHER}\n"
            f"  access_token={defaults.TIKTOK_ACCESS_TOKEN}\n"
            f"  refresh_token={defaults.TIKTOK_REFRESH_TOKEN}\n"
            f"  state: {server.url}/_sandbox/state"
        )
    return (
        f"DealPOS simulator at {server.url}/api/v3/\n"
        f"  client_id={defaults.DEALPOS_CLIENT_ID} client_secret={defaults.DEALPOS_CLIENT_SECRET}\n"
        f"  outlet={defaults.DEALPOS_OUTLET!r} payment method={defaults.DEALPOS_PAYMENT_METHOD!r}\n"
        f"  watch: {server.url}/   state: {server.url}/_sandbox/state"
    )


def main(argv: list[str] | None = None) -> int:
    """Start the chosen simulator, print where it listens, serve until Ctrl-C."""
    args = _parser().parse_args(argv)
    generator = None
    server: LoopbackServer
    if args.which == "tiktok":
        server, generator = _tiktok(args)
    else:
        server = _dealpos(args)
    server.start()
    print(_describe(server, args), flush=True)
    idle = threading.Event()
    try:
        while not idle.wait(1.0):
            for event in generator.step() if generator else []:
                print(f"order {event.order_id}: {event.change}", flush=True)
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
