"""The restarter brings exited processes back as a kubelet does: at once, then with a doubling,
capped back-off (CrashLoopBackOff meanwhile), reset once a process has stayed up; restarts counted.

The policy is checked on a fake clock and fake processes; the restarter process itself on a real
state file with a process that always exits (no rehearsal needed), and on the running rehearsal in
test_cli.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from celestials.local import restarter, statefile, supervisor
from celestials.local.__main__ import main
from celestials.local.rehearsal import PROJECT_ROOT, Rehearsal
from celestials.local.restarter import BACKOFF, Backoff, Restarts, describe, spec_from_record, spec_record, tick
from celestials.local.supervisor import Running, SupervisorError
from celestials.render.local_plan import Endpoint
from celestials.render.local_processes import Listen, ProcessSpec

TICK = 0.5


def _spec(name: str = "app", argv: tuple[str, ...] = ("true",)) -> ProcessSpec:
    return ProcessSpec(name=name, kind="app", argv=argv, cwd="/tmp", env=(("A", "1"), ("B", "x=y")),
                       listens=(Listen(Endpoint("127.80.1.1", 3000), "app listener"),),
                       health_url="http://127.80.1.1:3000/ping", workload="app", config_file=None,
                       admin_url=None)


class FakeProcesses:
    """Processes that live until `crash` says otherwise; or, with `crash_on_start`, never."""

    def __init__(self, crash_on_start: bool = True):
        self.crash_on_start, self.alive_pids, self.next_pid = crash_on_start, set(), 1000
        self.launched: list[tuple[str, str]] = []
        self.cleared: list[int] = []
        self.fail_next_launch = False

    def alive(self, running: Running) -> bool:
        return running.pid in self.alive_pids

    def exit_code(self, running: Running) -> int | None:
        return 3

    def clear(self, running: Running) -> None:
        self.cleared.append(running.pid)

    def launch(self, spec: ProcessSpec, log: str, fingerprint: str, note: str) -> Running:
        if self.fail_next_launch:
            self.fail_next_launch = False
            raise SupervisorError(f"{spec.name}: cannot run {spec.argv[0]}")
        self.next_pid += 1
        if not self.crash_on_start:
            self.alive_pids.add(self.next_pid)
        self.launched.append((spec.name, note))
        return Running(spec.name, self.next_pid, self.next_pid * 10, fingerprint, spec.kind)


def _state(processes: FakeProcesses, with_spec: bool = True) -> dict:
    first = processes.launch(_spec(), "/tmp/app.log", "fp", "")
    processes.launched.clear()
    processes.alive_pids.discard(first.pid)  # it exits
    return {"processes": {"app": first.to_dict()},
            "specs": {"app": spec_record(_spec(), "/tmp/app.log")} if with_spec else {}}


def _run(state: dict, processes: FakeProcesses, start: float, until: float) -> list[float]:
    """Tick every TICK seconds of the fake clock; the times at which it restarted."""
    restarted_at, now = [], start
    while now <= until:
        before = len(processes.launched)
        tick(state, now, processes)
        restarted_at += [now] * (len(processes.launched) - before)
        now += TICK
    return restarted_at


def test_a_crash_loop_is_restarted_at_once_then_after_a_doubling_capped_back_off():
    processes = FakeProcesses(crash_on_start=True)
    state = _state(processes)
    restarted_at = _run(state, processes, 0.0, 70.0)
    # each exit is seen one tick after its restart, then waits 1, 2, 4, 8, 16 and 30 s (the cap)
    assert restarted_at == [0.0, 1.5, 4.0, 8.5, 17.0, 33.5, 64.0]
    assert [note for _, note in processes.launched] == [f"restart {n}" for n in range(1, 8)]
    assert Restarts.from_dict(state["restarts"]["app"]).count == 7
    assert state["processes"]["app"]["pid"] == processes.next_pid  # the state names the newest process
    assert len(processes.cleared) == 7  # what was left of each exited process's group, before each start


def test_while_it_waits_it_is_in_crash_loop_back_off():
    processes = FakeProcesses(crash_on_start=True)
    state = _state(processes)
    _run(state, processes, 0.0, 2.5)  # restarted at 0 and 1.5; the exit seen at 2.0 waits 2 s
    record = state["restarts"]["app"]
    assert describe(False, record, True, 2.5) == "CrashLoopBackOff (back-off 2s, next restart in 2s)"
    assert describe(False, record, True, 4.0) == "exited, restarting"  # due: the next tick restarts it
    assert describe(False, record, False, 2.5) == "STOPPED"  # nobody restarts it
    assert describe(True, record, True, 2.5) == "running"


def test_a_process_that_stayed_up_starts_over_at_the_first_delay():
    processes = FakeProcesses(crash_on_start=True)
    state = _state(processes)
    _run(state, processes, 0.0, 10.0)  # restarts at 0, 1.5, 4.0, 8.5: the back-off is at 8 s
    assert Restarts.from_dict(state["restarts"]["app"]).delay_s == 8.0
    processes.crash_on_start = False
    _run(state, processes, 10.0, 20.0)  # the restart at 17.0 stays up
    assert processes.launched[-1] == ("app", "restart 5")
    up_until = 17.0 + BACKOFF.reset_after_s + 1
    processes.alive_pids.clear()  # it exits after a long run
    assert _run(state, processes, up_until, up_until) == [up_until]  # at once, as a first exit
    assert Restarts.from_dict(state["restarts"]["app"]) == Restarts(6, BACKOFF.initial_s, up_until, None)


def test_a_start_that_fails_waits_its_back_off_and_is_counted():
    processes = FakeProcesses(crash_on_start=True)
    state = _state(processes)
    processes.fail_next_launch = True
    events = tick(state, 0.0, processes)
    assert events == ["app (pid 1001) exited with code 3",
                      "app: restart 1 failed (app: cannot run true); next try in 1s"]
    assert Restarts.from_dict(state["restarts"]["app"]) == Restarts(1, 1.0, 0.0, 0.0)
    assert _run(state, processes, 0.5, 1.0) == [1.0]


def test_a_process_without_a_recorded_spec_is_reported_not_restarted():
    processes = FakeProcesses()
    state = _state(processes, with_spec=False)
    assert tick(state, 0.0, processes) == [
        "app (pid 1001) exited with code 3; no spec recorded for it, so it is not restarted"]
    assert tick(state, 5.0, processes) == [] and processes.launched == []


def test_a_running_process_is_left_alone():
    processes = FakeProcesses(crash_on_start=False)
    state = _state(processes)
    processes.alive_pids.add(state["processes"]["app"]["pid"])
    before = json.dumps(state, sort_keys=True)
    assert tick(state, 0.0, processes) == []
    assert json.dumps({k: v for k, v in state.items() if k != "restarts"}, sort_keys=True) == before
    assert not state["restarts"]


def test_the_back_off_shape_is_the_kubelets():
    assert (BACKOFF.reset_after_s, Backoff(10, 300).reset_after_s) == (2 * BACKOFF.cap_s, 600)
    assert BACKOFF.initial_s < BACKOFF.cap_s


def test_a_spec_survives_the_state_file():
    spec = _spec()
    raw = json.loads(json.dumps(spec_record(spec, "/tmp/app.log")))
    assert spec_from_record(raw) == (spec, "/tmp/app.log")


# --- the restarter as a process -------------------------------------------------------------
def _status(root: Path, capsys) -> str:
    assert main(["status", "--root", str(root)]) == 0
    return capsys.readouterr().out


def _eventually(check, what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout:.0f}s: {what}"
        time.sleep(0.2)
    return result


@pytest.fixture
def crashing(tmp_path):
    """A state file with one process that always exits with code 3, and its restarter running."""
    root = tmp_path / "local"
    spec = ProcessSpec(name="crasher", kind="app", argv=(sys.executable, "-c", "import sys; sys.exit(3)"),
                       cwd=str(tmp_path), env=(), listens=(), health_url="http://127.0.0.1:1/")
    log = str(root / "logs" / "crasher.log")
    first, popen = supervisor.start(spec, log, "fp")
    popen.wait()
    keeper, _ = supervisor.start(restarter.spec(root, PROJECT_ROOT), str(root / "logs" / "restarter.log"), "")
    with statefile.lock(root):
        statefile.write(root, {"stack": "dev", "settings": {}, "processes": {"crasher": first.to_dict()},
                               "specs": {"crasher": spec_record(spec, log)}, restarter.NAME: keeper.to_dict()})
    yield root, keeper
    Rehearsal(root=root).down()


def test_the_restarter_restarts_a_crashing_process_with_back_off_and_status_shows_it(crashing, capsys):
    root, keeper = crashing
    restarts = lambda: (statefile.read(root) or {}).get("restarts", {}).get("crasher", {}).get("count", 0)  # noqa: E731
    _eventually(lambda: restarts() >= 2, "two restarts of a process that always exits")
    seen = _eventually(lambda: "CrashLoopBackOff" in (out := _status(root, capsys)) and out,
                       "local-status showing the back-off")
    assert "crasher" in seen and "restarter: pid" in seen
    log = (root / "logs" / "crasher.log").read_text()
    assert "starting crasher (restart 1)" in log and "starting crasher (restart 2)" in log
    keeper_log = (root / "logs" / "restarter.log").read_text()
    assert "crasher: restart 1 (pid" in keeper_log
    assert "exited with code 3" in keeper_log  # a process it started: its exit code is known
    # `make local-down` stops the restarter first: nothing is restarted afterwards
    Rehearsal(root=root).down()
    assert not keeper.alive() and statefile.read(root) is None


def test_status_says_when_nothing_restarts_exited_processes(crashing, capsys):
    root, keeper = crashing
    supervisor.stop([keeper])
    out = _status(root, capsys)
    assert "restarter: not running, so an exited process stays STOPPED" in out
    assert "every stopped one (and the restarter) with `make local-restart`" in out


def test_the_restarter_leaves_when_the_rehearsal_is_gone(tmp_path):
    root = tmp_path / "local"
    root.mkdir()
    result = subprocess.run([sys.executable, "-m", "celestials.local.restarter", "--root", str(root)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "the rehearsal is stopped, or another restarter looks after it" in result.stdout
