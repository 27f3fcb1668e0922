"""Command line of the local rehearsal (what `make local*` runs).

    python -m celestials.local up|run|down|status|restart|reconfigure|traces [--stack dev] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from ..settings import SettingsError
from ..topology.model import TopologyError
from . import restarter, servicemap, servicemap_svg
from .rehearsal import DEFAULT_ROOT, AlreadyRunning, Rehearsal, RehearsalError, restarter_alive
from .stack import StackFileError, parse_overrides
from .supervisor import Running, SupervisorError


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        overrides = parse_overrides(args.set)
        rehearsal = Rehearsal(stack=args.stack, overrides=overrides, root=args.root, net=args.net)
        code: int = args.func(rehearsal, args)
        return code
    except AlreadyRunning as err:
        print(f"[local] {err}", file=sys.stderr)
        return 3
    except (RehearsalError, SupervisorError, SettingsError, StackFileError, TopologyError, ValueError) as err:
        print(f"[local] error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl-C before `run` takes over SIGINT (e.g. during start-up): `up` has already stopped
        # whatever it had started; no traceback, the shell's usual exit code for SIGINT.
        print("\n[local] interrupted; `make local-status` shows what is still running", file=sys.stderr)
        return 130


def _up(rehearsal: Rehearsal, args: argparse.Namespace) -> int:
    endpoints = rehearsal.up(timeout=args.timeout)
    _print_endpoints(rehearsal, endpoints)
    print("[local] running in the background; stop with `make local-down`")
    return 0


def _run(rehearsal: Rehearsal, args: argparse.Namespace) -> int:
    endpoints = rehearsal.up(timeout=args.timeout, mode="foreground")
    _print_endpoints(rehearsal, endpoints)
    print("[local] running in the foreground; Ctrl-C stops everything", flush=True)

    def terminate(signum: int, frame: FrameType | None) -> NoReturn:
        raise KeyboardInterrupt

    # Installed explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    try:
        rehearsal.supervise()
        print("[local] stopped from elsewhere (local-down)")
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        print("\n[local] stopping ...", flush=True)
        names = rehearsal.down()
        print(f"[local] stopped {len(names)} processes")
    return 0


def _down(rehearsal: Rehearsal, args: argparse.Namespace) -> int:
    names = rehearsal.down()
    print(f"[local] stopped {len(names)} processes" if names else "[local] nothing was running")
    if rehearsal.killed:
        print(f"[local] SIGTERM was not enough for: {', '.join(rehearsal.killed)} (killed)")
    return 0


def _status(rehearsal: Rehearsal, args: argparse.Namespace) -> int:
    state = rehearsal.read_state()
    if state is None:
        # An answer, not a failure: a fresh clone has simply never started it.
        print("[local] not running; start it with `make local-up`")
        return 0
    looked_after = restarter_alive(state)
    restarts = state.get("restarts") or {}
    now, stopped = time.monotonic(), []
    for name, raw in sorted(state["processes"].items()):
        alive = Running.from_dict(name, raw).alive()
        shown = restarter.describe(alive, restarts.get(name), looked_after, now)
        stopped += [name] if shown == "STOPPED" else []
        count = restarter.Restarts.from_dict(restarts.get(name)).count
        print(f"  {name:24} pid {raw['pid']:<8} {shown:20} restarts {count}")
    print(f"  settings: {json.dumps(state.get('settings'), sort_keys=True)}")
    policy = restarter.BACKOFF
    if looked_after:
        print(f"  restarter: pid {state[restarter.NAME]['pid']}, restarts an exited process at once, then after "
              f"{policy.initial_s:g}s, doubling up to {policy.cap_s:g}s (CrashLoopBackOff meanwhile)")
    else:
        print("  restarter: not running, so an exited process stays STOPPED")
    if stopped:
        print(f"[local] {len(stopped)} stopped; restart one with `make local-restart NAME={stopped[0]}`, "
              "every stopped one (and the restarter) with `make local-restart`")
    return 0


def _resume(rehearsal: Rehearsal) -> dict[str, Any]:
    """Act on the running rehearsal as it was started (stack, overrides, addresses), not on this
    command's defaults."""
    previous = rehearsal.read_state()
    if previous is None:
        raise RehearsalError("the rehearsal is not running; start it with `make local-up`")
    rehearsal.stack = previous.get("stack", rehearsal.stack)
    rehearsal.overrides = dict(previous.get("overrides") or {})
    rehearsal.net = previous.get("net", rehearsal.net)
    return previous


def _restart(rehearsal: Rehearsal, args: argparse.Namespace) -> int:
    previous = _resume(rehearsal)
    unknown = [n for n in args.names if n not in previous["processes"]]
    if unknown:
        raise RehearsalError(f"no process named {unknown[0]!r}; processes: {', '.join(sorted(previous['processes']))}")
    restarted = rehearsal.restart(args.names, timeout=args.timeout) if args.names else \
        rehearsal.start_missing(timeout=args.timeout)
    print(f"[local] restarted: {', '.join(restarted) or 'nothing (every process is running)'}")
    return 0


def _reconfigure(rehearsal: Rehearsal, args: argparse.Namespace) -> int:
    if not args.set:
        raise RehearsalError("reconfigure needs at least one --set key=value (e.g. CANARY_WEIGHT=100)")
    _resume(rehearsal)
    restarted = rehearsal.reconfigure(parse_overrides(args.set), timeout=args.timeout)
    print(f"[local] changed in place (no restart): {', '.join(rehearsal.reloaded) or 'nothing'}")
    print(f"[local] restarted: {', '.join(restarted) or 'nothing'}")
    return 0


def _traces(rehearsal: Rehearsal, args: argparse.Namespace) -> int:
    spans_file = rehearsal.root / "traces" / "spans.jsonl"
    svg = Path(args.svg) if args.svg else rehearsal.root / "service-map.svg"
    graph = servicemap.build(servicemap.read_spans(spans_file))
    print(servicemap.render_text(graph))
    svg.write_text(servicemap_svg.render_svg(graph, proxies=rehearsal.render().configs))
    print(f"[local] service map picture: {svg}")
    return 0


def _print_endpoints(rehearsal: Rehearsal, endpoints: dict[str, Any]) -> None:
    settings = ", ".join(f"{k}={v}" for k, v in endpoints["settings"].items())
    print(f"[local] stack {endpoints['stack']} is up ({settings})")
    rows = [("gateway", endpoints.get("gateway"), "product catalog through ingress-gw"),
            ("colorFront", endpoints.get("colorFront"), "mTLS front; add -H 'color_header: blue|green|red'"),
            ("traces", endpoints["traces"], f"OTLP sink, spans in {endpoints['tracesFile']}; `make local-traces`"),
            ("logs", endpoints["logs"], "one log per process, Envoy access logs *.access.log"),
            ("endpoints", str(rehearsal.root / "endpoints.json"), "all addresses, for scripts")]
    for label, url, note in rows:
        if url:
            print(f"  {label:11} {url:44} {note}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m celestials.local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml is read (default dev)")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a celestials:* config value, e.g. canaryWeight=100 (repeatable)")
    common.add_argument("--root", default=str(DEFAULT_ROOT), help="rehearsal directory (default build/local)")
    common.add_argument("--net", type=int, default=0, help="loopback block 127.<net>.0.0/16 (default 0)")
    common.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for health")
    sub = parser.add_subparsers(required=True, dest="command")
    for name, func, text in (("up", _up, "start in the background, return once healthy"),
                             ("run", _run, "start in the foreground; Ctrl-C stops everything"),
                             ("down", _down, "stop every process of the rehearsal"),
                             ("status", _status, "list the processes and whether they run"),
                             ("restart", _restart, "restart the named processes (none named: every stopped one)"),
                             ("reconfigure", _reconfigure, "apply --set values to the running rehearsal"),
                             ("traces", _traces, "print the service map and write it as SVG")):
        cmd = sub.add_parser(name, parents=[common], help=text)
        cmd.set_defaults(func=func)
        if name == "restart":
            cmd.add_argument("names", nargs="*", metavar="NAME", help="process names as `status` lists them")
        if name == "traces":
            cmd.add_argument("--svg", help="where to write the picture (default <root>/service-map.svg)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
