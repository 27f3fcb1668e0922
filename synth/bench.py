"""`make bench-synth`: how long the offline synth takes, printed with the conditions it ran under.

Why the conditions: the same synth took 1.4 s on a quiet machine and 7–14 s on a busy one, so a
figure without the machine's cores, its load and the Python version says little. Three figures
per stack:
- command: `python -m synth --stack <s>` as a fresh process (interpreter start, imports,
  evaluation, writing the files): what `make synth` costs;
- first: the first evaluation of the stack inside one process (for the first stack listed, that
  includes importing the program's modules);
- warm: the next N evaluations in that same process (median, min, max).
"Cold" here means a fresh Python process; the OS file cache and compiled .pyc files are whatever
the machine has (warm after any earlier run), which the output says.

    python -m synth.bench [--stacks dev,prod] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from .harness import ROOT, quiet, synth_stack


def _conditions() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cores, load average {load} (1/5/15 min), "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def _command_seconds(stack: str) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "synth", "--stack", stack, "--out", out], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
        return time.perf_counter() - started


def _evaluation_seconds(stack: str) -> tuple[float, int]:
    started = time.perf_counter()
    with quiet():
        result = synth_stack(stack)
    return time.perf_counter() - started, len(result.resources)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", default="dev,prod")
    parser.add_argument("--runs", type=int, default=5, help="warm evaluations per stack (default 5)")
    args = parser.parse_args(argv)
    stacks = [s for s in args.stacks.split(",") if s]
    print("offline synth (`python -m synth.bench`)")
    print(f"before: {_conditions()}")
    print("files: OS cache and .pyc as left by earlier runs (a first run after a clone is slower)")
    print()
    commands = {stack: _command_seconds(stack) for stack in stacks}
    rows = []
    for stack in stacks:
        first, count = _evaluation_seconds(stack)
        warm = [_evaluation_seconds(stack)[0] for _ in range(args.runs)]
        rows.append((stack, count, commands[stack], first, warm))
    print("| stack | resources | command s (fresh process) | first evaluation s | warm median s | warm min s | warm max s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for stack, count, command, first, warm in rows:
        print(f"| {stack} | {count} | {command:.2f} | {first:.2f} | {statistics.median(warm):.2f} "
              f"| {min(warm):.2f} | {max(warm):.2f} |")
    print()
    print(f"after: {_conditions()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
