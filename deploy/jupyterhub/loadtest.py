"""Load test of the course's JupyterHub: N students at once, each running a notebook through their own server.

Usage (from the repository's root, after the set-up and `npm ci`)::

    .venv/bin/python deploy/jupyterhub/loadtest.py --students 16 [--training-every 4] [--json FILE] [--record]

It starts the real hub of ``jupyterhub_config.py`` on loopback (a free port, a fresh state folder, the ``dummy``
authenticator and an admin service token made for the run), then, for every simulated student at once, through the
hub's REST API: creates the user, starts their server and waits until it is ready; opens a session on a notebook
through the server's REST API and runs each of its code cells in order through the kernel's websocket, as JupyterLab
does, stopping at the first error. Every student runs notebook 01 (light); every ``--training-every``-th runs
notebook 14 (training) instead. A sampler reads, twice a second, the resident memory of each student's processes (the
single-user server and its kernel, found by their ``JUPYTERHUB_USER``).

Per student it reports the time to a ready server, the time to the first executed cell, the run's time, the peak
memory and any failure; then the hub is stopped by its process id (with the proxy and the servers it started) and
the listening sockets of all its processes are checked to have been on 127.0.0.1 only. ``--record`` writes the
summary into ``measured.json``, which ``capacity.py`` sizes the memory limits from.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFIG = HERE / "jupyterhub_config.py"
LIGHT = "01_curse_of_dimensionality.ipynb"
TRAINING = "14_open_questions.ipynb"
CELL_TIMEOUT_S = 900.0


@dataclass
class Student:
    name: str
    notebook: str
    ready_s: float = float("nan")  # from the start request to a ready server
    first_cell_s: float = float("nan")  # from the start request to the first cell's reply
    run_s: float = float("nan")  # all the notebook's cells
    cells: int = 0
    peak_mb: float = 0.0
    failure: str = ""


@dataclass
class Hub:
    """A running hub: its process, URL and admin token."""

    process: subprocess.Popen
    url: str
    token: str
    state: Path
    log: Path
    listening: set = field(default_factory=set)

    def processes(self) -> list[psutil.Process]:
        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def record_listening(self) -> None:
        """Add the addresses that the hub, its proxy and the servers listen on to ``listening``."""
        for proc in self.processes():
            try:
                for conn in proc.net_connections(kind="inet"):
                    if conn.status == psutil.CONN_LISTEN:
                        self.listening.add(conn.laddr.ip)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue

    def stop(self, timeout: float = 60.0) -> list[str]:
        """Stop the hub by its process id; it stops the proxy and the servers it started. Return what was left running
        15 s after the hub exited (killed then): empty when the hub stopped everything it had started."""
        family = self.processes()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        _, alive = psutil.wait_procs(family, timeout=15)
        left = []
        for proc in alive:
            try:
                left.append(" ".join(proc.cmdline()[:3]))
                proc.kill()
            except psutil.NoSuchProcess:
                continue
        return left


def free_port(count: int = 3) -> int:
    """A port p such that p, p + 1, ..., p + count - 1 are free on loopback (the hub uses three)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + count >= 65535:
            continue
        try:
            for offset in range(count):
                with socket.socket() as check:
                    check.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
    raise RuntimeError("no three consecutive free ports on 127.0.0.1")


def start_hub(state: Path, mem_limit: str = "1.5G", timeout: float = 120.0) -> Hub:
    """Start the course's hub on a free loopback port, with its state in ``state``; wait until its API answers."""
    import requests

    state.mkdir(parents=True, exist_ok=True)
    port = free_port()
    token = secrets.token_hex(32)
    env = dict(os.environ)
    env.update(
        COSP_HUB_AUTH="dummy",
        COSP_HUB_PASSWORD=secrets.token_hex(16),
        COSP_HUB_PORT=str(port),
        COSP_HUB_STATE=str(state),
        COSP_HUB_MEM_LIMIT=mem_limit,
        COSP_HUB_ADMIN_TOKEN=token,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    log = state / "jupyterhub.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)],
            cwd=state, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    hub = Hub(process, f"http://127.0.0.1:{port}", token, state, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the hub exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{hub.url}/hub/api/", timeout=2).ok:
                return hub
        except requests.RequestException:
            pass
        time.sleep(0.5)
    hub.stop()
    raise RuntimeError(f"the hub did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def code_cells(notebook: str) -> list[str]:
    cells = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def student_memory_mb(names: set[str]) -> dict[str, float]:
    """Resident memory (MB) of each student's processes, found by the JUPYTERHUB_USER in their environment."""
    totals = dict.fromkeys(names, 0.0)
    for proc in psutil.process_iter(["pid"]):
        try:
            user = proc.environ().get("JUPYTERHUB_USER")
            if user in totals:
                totals[user] += proc.memory_info().rss / 2**20
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return totals


async def _run_student(hub: Hub, student: Student) -> None:
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest
    from tornado.websocket import websocket_connect

    client = AsyncHTTPClient()
    headers = {"Authorization": f"token {hub.token}"}

    async def api(method: str, path: str, body: dict | None = None, ok=(200, 201, 202, 204)):
        request = HTTPRequest(
            f"{hub.url}{path}", method=method, headers=headers, request_timeout=600,
            body=json.dumps(body or {}) if method in ("POST", "PUT", "PATCH") else None,
        )  # fmt: skip
        response = await client.fetch(request, raise_error=False)
        if response.code not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {response.code} {response.body[:300]!r}")
        return json.loads(response.body) if response.body else {}

    start = time.monotonic()
    await api("POST", f"/hub/api/users/{student.name}", ok=(201, 409))
    await api("POST", f"/hub/api/users/{student.name}/server")
    while True:
        user = await api("GET", f"/hub/api/users/{student.name}")
        server = user.get("servers", {}).get("", {})
        if server.get("ready"):
            break
        if not user.get("servers") and time.monotonic() - start > 10:
            raise RuntimeError("the server stopped before it was ready")
        if time.monotonic() - start > 600:
            raise RuntimeError("the server was not ready after 600 s")
        await asyncio.sleep(0.5)
    student.ready_s = time.monotonic() - start
    session = await api(
        "POST", f"/user/{student.name}/api/sessions",
        {"path": f"notebooks/{student.notebook}", "type": "notebook", "kernel": {"name": "python3"}},
    )  # fmt: skip
    kernel = session["kernel"]["id"]
    ws_url = hub.url.replace("http", "ws", 1) + f"/user/{student.name}/api/kernels/{kernel}/channels"
    socket_ = await websocket_connect(HTTPRequest(ws_url, headers=headers))
    session_id = uuid.uuid4().hex
    run_start = time.monotonic()
    try:
        for source in code_cells(student.notebook):
            msg_id = uuid.uuid4().hex
            message = {
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": student.name,
                           "session": session_id, "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": source, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True},
            }  # fmt: skip
            await socket_.write_message(json.dumps(message))
            error = None
            while True:
                raw = await asyncio.wait_for(socket_.read_message(), timeout=CELL_TIMEOUT_S)
                if raw is None:
                    raise RuntimeError("the kernel's websocket closed")
                if isinstance(raw, bytes):
                    continue  # binary frames carry buffers (widgets): nothing to check
                reply = json.loads(raw)
                if reply.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if reply["msg_type"] == "error":
                    error = f"{reply['content']['ename']}: {reply['content']['evalue'][:200]}"
                if reply["msg_type"] == "execute_reply":
                    break
            student.cells += 1
            if student.cells == 1:
                student.first_cell_s = time.monotonic() - start
            if error is not None:
                raise RuntimeError(f"cell {student.cells}: {error}")
        student.run_s = time.monotonic() - run_start
    finally:
        socket_.close()
        await api("DELETE", f"/user/{student.name}/api/sessions/{session['id']}", ok=(204, 404))
        await api("DELETE", f"/hub/api/users/{student.name}/server", ok=(202, 204, 400))


async def _run_all(hub: Hub, students: list[Student]) -> None:
    names = {s.name for s in students}
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            usage = await asyncio.to_thread(student_memory_mb, names)
            for student in students:
                student.peak_mb = max(student.peak_mb, usage[student.name])
            await asyncio.to_thread(hub.record_listening)
            await asyncio.sleep(0.5)

    async def one(student: Student) -> None:
        try:
            await _run_student(hub, student)
        except Exception as error:  # a student's failure is reported, and the others go on
            student.failure = f"{type(error).__name__}: {error}"

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(one(s) for s in students))
    done.set()
    await sampler


def run(students: int, training_every: int = 4, mem_limit: str = "1.5G", state: Path | None = None) -> dict:
    """Start the hub, run ``students`` students at once, stop the hub; return the per-student results and a summary."""
    if not isinstance(students, int) or isinstance(students, bool) or students < 1:
        raise ValueError(f"students must be a positive int, got {students!r}")
    if not isinstance(training_every, int) or isinstance(training_every, bool) or training_every < 1:
        raise ValueError(f"training_every must be a positive int (1: every student trains), got {training_every!r}")
    state = Path(tempfile.mkdtemp(prefix="cosp-hub-")) if state is None else Path(state)
    roster = [Student(f"student{i:02d}", TRAINING if (i + 1) % training_every == 0 else LIGHT) for i in range(students)]
    start = time.monotonic()
    hub = start_hub(state, mem_limit)
    try:
        asyncio.run(_run_all(hub, roster))
    finally:
        hub.stop()
    stopped = hub.process.poll() is not None and not [p for p in hub.processes() if p.is_running()]
    return {
        "students": [asdict(s) for s in roster],
        "summary": summarize(roster, hub, stopped, time.monotonic() - start),
    }


def summarize(roster: list[Student], hub: Hub, stopped: bool, seconds: float) -> dict:
    def median(values: list[float]) -> float:
        values = [v for v in values if v == v]
        return round(statistics.median(values), 1) if values else float("nan")

    by_notebook = {}
    for notebook in sorted({s.notebook for s in roster}):
        group = [s for s in roster if s.notebook == notebook]
        by_notebook[notebook[:2]] = {
            "students": len(group),
            "peak_mb_max": round(max(s.peak_mb for s in group), 0),
            "run_s_median": median([s.run_s for s in group]),
        }
    return {
        "students": len(roster),
        "cores": psutil.cpu_count(logical=True),
        "failures": sum(bool(s.failure) for s in roster),
        "ready_s_median": median([s.ready_s for s in roster]),
        "ready_s_max": round(max(s.ready_s for s in roster), 1),
        "first_cell_s_median": median([s.first_cell_s for s in roster]),
        "first_cell_s_max": round(max(s.first_cell_s for s in roster), 1),
        "per_notebook": by_notebook,
        "listening_on": sorted(hub.listening),
        "hub_stopped": stopped,
        "seconds": round(seconds, 1),
    }


def record(result: dict, path: Path | None = None) -> None:
    """Write the load test's summary into measured.json (keeping the notebooks' kernel peaks)."""
    import capacity

    path = capacity.MEASURED if path is None else path
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    summary = result["summary"]
    data["load_test"] = {
        "students": summary["students"],
        "cores": summary["cores"],
        "failures": summary["failures"],
        "light_notebook": LIGHT[:2],
        "per_student_peak_mb": {k: v["peak_mb_max"] for k, v in summary["per_notebook"].items()},
        "run_s_median": {k: v["run_s_median"] for k, v in summary["per_notebook"].items()},
        "ready_s_median": summary["ready_s_median"],
        "first_cell_s_median": summary["first_cell_s_median"],
        "processor": _processor(),
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _processor() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {psutil.cpu_count()} cores"
    return f"{psutil.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=16)
    parser.add_argument("--training-every", type=int, default=4, help="every k-th student runs the training notebook")
    parser.add_argument("--mem-limit", default="1.5G")
    parser.add_argument("--json", type=Path, help="write every student's results here")
    parser.add_argument("--record", action="store_true", help="write the summary into measured.json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    result = run(args.students, args.training_every, args.mem_limit)
    print("| student | notebook | ready (s) | first cell (s) | run (s) | peak (MB) | failure |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for s in result["students"]:
        print(f"| {s['name']} | {s['notebook'][:2]} | {s['ready_s']:.1f} | {s['first_cell_s']:.1f} | {s['run_s']:.1f} | "
              f"{s['peak_mb']:.0f} | {s['failure']} |")  # fmt: skip
    print(json.dumps(result["summary"], indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.record:
        record(result)
    return 1 if result["summary"]["failures"] or not result["summary"]["hub_stopped"] else 0


if __name__ == "__main__":
    sys.exit(main())
