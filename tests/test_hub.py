"""The course's JupyterHub (``deploy/jupyterhub``): its configuration, its sizing, and a load test of the real hub.

The load test starts the hub of ``jupyterhub_config.py`` on loopback and logs in four students at once through its
REST API; each starts a server and runs every code cell of a notebook through the server's kernel API (three run
notebook 01, one the training notebook 14), as ``deploy/jupyterhub/loadtest.py`` does with sixteen students for the
README's figures (``-m slow`` runs that size here). It checks that every student got a server and ran the whole
notebook, that each stayed under the memory limit, that nothing listened beyond 127.0.0.1, and that the hub, its
proxy and the servers were gone after the hub was stopped by its process id.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "deploy" / "jupyterhub"
sys.path.insert(0, str(HUB))
import capacity  # noqa: E402

loadtest = load_script("deploy/jupyterhub/loadtest.py")
VALUES = yaml.safe_load((HUB / "z2jh-values.yaml").read_text(encoding="utf-8"))
CONFIG_TEXT = (HUB / "jupyterhub_config.py").read_text(encoding="utf-8")


def _config_value(name: str) -> str:
    """A constant of jupyterhub_config.py (read from its text: the file runs only inside JupyterHub)."""
    import ast

    for node in ast.parse(CONFIG_TEXT).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            value = node.value
            while isinstance(value, ast.Call):  # int(...), os.environ.get("NAME", default): the default
                value = value.args[1] if len(value.args) > 1 else value.args[0]
            return ast.literal_eval(value)
    raise KeyError(name)


# --- sizing -------------------------------------------------------------------------------------------------------


def test_sizes_parse_as_jupyterhub_writes_them() -> None:
    assert capacity.parse_bytes("1.5G") == int(1.5 * 2**30)
    assert capacity.parse_bytes("768M") == 768 * 2**20
    assert capacity.parse_bytes("2Gi") == 2 * 2**30
    assert capacity.parse_bytes(4096) == 4096
    for bad, error in (
        ("lots", ValueError),
        ("-1G", ValueError),
        ("0", ValueError),
        (1.5, TypeError),
        (True, TypeError),
    ):
        with pytest.raises(error, match="memory size"):
            capacity.parse_bytes(bad)


def test_a_limit_below_the_heaviest_notebook_is_refused() -> None:
    need, why = capacity.required_mb()
    peaks = capacity.measured()["notebook_kernel_peak_mb"]
    assert need > max(peaks.values())  # the kernel's peak, plus the server
    assert capacity.check_memory_limit("1.5G") == int(1.5 * 2**30)
    low = f"{int(max(peaks.values()))}M"  # the kernel's peak alone leaves no room for the server
    with pytest.raises(ValueError, match=r"is below what the heaviest notebook needs: notebook \d\d's kernel peak"):
        capacity.check_memory_limit(low)


def test_the_hub_refuses_to_start_with_a_limit_below_the_measured_peak(tmp_path: Path) -> None:
    env = dict(os.environ, COSP_HUB_MEM_LIMIT="300M", COSP_HUB_STATE=str(tmp_path), COSP_HUB_AUTH="dummy",
               COSP_HUB_PASSWORD="x" * 16, COSP_HUB_PORT=str(loadtest.free_port()))  # fmt: skip
    result = subprocess.run(
        [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(HUB / "jupyterhub_config.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "memory limit '300M' (300 MB) is below what the heaviest notebook needs" in result.stdout + result.stderr


def test_the_kubernetes_values_agree_with_the_measurements_and_the_local_hub() -> None:
    single = VALUES["singleuser"]
    limit = capacity.check_memory_limit(single["memory"]["limit"])
    guarantee = capacity.parse_bytes(single["memory"]["guarantee"])
    load = capacity.measured()["load_test"]
    light_peak = load["per_student_peak_mb"][load["light_notebook"]]
    assert light_peak * 2**20 <= guarantee <= limit, (light_peak, guarantee, limit)
    assert capacity.parse_bytes(_config_value("MEM_LIMIT")) == limit  # the one-machine hub's default
    assert single["defaultUrl"] == _config_value("DEFAULT_URL")
    assert single["extraEnv"] == _config_value("ONE_CORE")
    assert VALUES["cull"]["enabled"] and VALUES["cull"]["timeout"] == int(_config_value("CULL_AFTER"))
    assert VALUES["prePuller"]["hook"]["enabled"] and VALUES["scheduling"]["userPlaceholder"]["enabled"]
    # the image is built by repo2docker from binder/, with the repository at /srv/repo, where the hook copies from
    header = (HUB / "z2jh-values.yaml").read_text(encoding="utf-8")
    assert "--target-repo-dir /srv/repo" in header and "/srv/repo/notebooks" in str(single["lifecycleHooks"])
    assert (ROOT / "binder" / "requirements.txt").is_file()


def test_the_readme_capacity_table_is_computed_from_the_values() -> None:
    memory = VALUES["singleuser"]["memory"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, by_guarantee, by_limit, by_cpu in capacity.capacity_rows(memory["guarantee"], memory["limit"]):
        assert f"| {name} | {by_guarantee} | {by_limit} | {by_cpu} |" in readme, name


def test_capacity_refuses_bad_nodes() -> None:
    with pytest.raises(ValueError, match="node_gb must be a positive number"):
        capacity.students_per_node(0, "1G")
    with pytest.raises(ValueError, match="node_gb must be a positive number"):
        capacity.students_per_node("16", "1G")
    assert capacity.students_per_node(16, "1G") == 14  # 16 GB less 6% and 1 GB: 14.04 GB


@pytest.mark.parametrize("students, training_every", [(0, 4), (2.5, 4), (True, 4), (4, 0)])
def test_the_load_test_refuses_bad_sizes(students, training_every) -> None:
    with pytest.raises(ValueError, match="must be a positive int"):
        loadtest.run(students, training_every)


def _load_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str):
    """jupyterhub_config.py run as JupyterHub runs it (with ``get_config``), in ``env``; return its configuration."""
    from traitlets.config import Config

    monkeypatch.setenv("COSP_HUB_STATE", str(tmp_path))
    for name in ("COSP_HUB_AUTH", "COSP_HUB_PASSWORD", "COSP_HUB_ADMINS", "COSP_HUB_ADMIN_TOKEN", "COSP_HUB_MEM_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = Config()
    exec(compile(CONFIG_TEXT, str(HUB / "jupyterhub_config.py"), "exec"), {"get_config": lambda: config, "__file__": str(HUB / "jupyterhub_config.py")})  # fmt: skip
    return config


def test_the_class_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _load_config(tmp_path, monkeypatch, COSP_HUB_ADMINS="lecturer, ta")
    assert c.JupyterHub.authenticator_class == "nativeauthenticator.NativeAuthenticator"
    assert Path(c.JupyterHub.template_paths[0], "signup.html").is_file()
    assert c.NativeAuthenticator.open_signup is False and c.Authenticator.admin_users == {"lecturer", "ta"}
    assert c.JupyterHub.ip == c.JupyterHub.hub_ip == c.Spawner.ip == "127.0.0.1"
    assert c.Spawner.default_url == "/lab/tree/notebooks/00_start_here.ipynb" and c.Spawner.mem_limit == "1.5G"
    assert [s["name"] for s in c.JupyterHub.services] == ["idle-culler"]  # no admin service without its token
    assert "--timeout=3600" in c.JupyterHub.services[0]["command"]
    assert Path(c.ConfigurableHTTPProxy.command[0]).is_file()  # from npm ci


def test_each_server_gets_a_port_no_other_server_of_the_hub_holds(tmp_path, monkeypatch) -> None:
    # two servers starting at once could be given the same free port; the second would then move to another port (or,
    # with port_retries=0, fail) and the proxy would send its student to the first one's server
    import socket
    from types import SimpleNamespace

    c = _load_config(tmp_path, monkeypatch)
    assert "--ServerApp.port_retries=0" in c.Spawner.args  # a server listens on its given port or does not start
    offered = iter([5001, 5001, 5001, 5002, 5001])  # what the system reports free, one probe after another

    class Probe:  # the socket jupyterhub.utils.random_port binds to port 0 and asks for its port
        def bind(self, address):
            self.port = next(offered)

        def getsockname(self):
            return ("127.0.0.1", self.port)

        def close(self):
            pass

    monkeypatch.setattr(socket, "socket", lambda *args: Probe())
    first, second, third = (SimpleNamespace(home_dir=str(tmp_path / name), port=0) for name in ("a", "b", "c"))
    c.Spawner.pre_spawn_hook(first)
    c.Spawner.pre_spawn_hook(second)  # 5001 is offered twice more while the first server holds it
    assert (first.port, second.port) == (5001, 5002)
    assert (tmp_path / "a" / "notebooks" / "00_start_here.ipynb").is_file()  # the course is copied too
    c.Spawner.post_stop_hook(first)  # its port is free again
    c.Spawner.pre_spawn_hook(third)
    assert third.port == 5001


@pytest.mark.parametrize(
    "env, match",
    [
        ({"COSP_HUB_AUTH": "pam"}, "COSP_HUB_AUTH must be 'native'"),
        ({"COSP_HUB_AUTH": "dummy"}, "COSP_HUB_AUTH=dummy needs a shared password"),
        ({"COSP_HUB_MEM_LIMIT": "512M"}, "is below what the heaviest notebook needs"),
    ],
)
def test_the_configuration_refuses_what_would_not_work(tmp_path, monkeypatch, env, match) -> None:
    with pytest.raises(ValueError, match=match):
        _load_config(tmp_path, monkeypatch, **env)


# --- the load test ---------------------------------------------------------------------------------------------------


def _load_test(students: int, tmp_path: Path) -> dict:
    result = loadtest.run(students, training_every=4, state=tmp_path / "hub")
    for s in result["students"]:
        print(f"{s['name']} {s['notebook'][:2]}: ready {s['ready_s']:.1f} s, first cell {s['first_cell_s']:.1f} s, "
              f"run {s['run_s']:.1f} s, peak {s['peak_mb']:.0f} MB {s['failure']}")  # fmt: skip
    print(result["summary"])
    return result


def _check(result: dict, students: int) -> None:
    summary = result["summary"]
    assert summary["failures"] == 0, [s["failure"] for s in result["students"] if s["failure"]]
    cells = {nb: len(loadtest.code_cells(nb)) for nb in (loadtest.LIGHT, loadtest.TRAINING)}
    for s in result["students"]:
        assert s["cells"] == cells[s["notebook"]], s  # every cell ran, none raised
        assert s["ready_s"] < s["first_cell_s"] < s["ready_s"] + s["run_s"] + 1
        assert 50 < s["peak_mb"] < capacity.parse_bytes(VALUES["singleuser"]["memory"]["limit"]) / 2**20, s
    assert summary["students"] == students and summary["per_notebook"].keys() == {"01", "14"}
    assert summary["listening_on"] == ["127.0.0.1"], summary["listening_on"]
    assert summary["hub_stopped"], summary["left_running"]


@pytest.mark.heavy
def test_four_students_at_once_on_the_real_hub(tmp_path: Path) -> None:
    start = time.monotonic()
    result = _load_test(4, tmp_path)
    _check(result, 4)
    assert not (tmp_path / "hub" / "jupyterhub.pid").exists() or not _alive(tmp_path / "hub" / "jupyterhub.pid")
    print(f"load test, 4 students: {time.monotonic() - start:.0f} s")


@pytest.mark.slow
@pytest.mark.heavy
def test_sixteen_students_at_once_on_the_real_hub(tmp_path: Path) -> None:
    _check(_load_test(16, tmp_path), 16)


def _alive(pid_file: Path) -> bool:
    import psutil

    try:
        return psutil.pid_exists(int(pid_file.read_text().strip()))
    except (OSError, ValueError):
        return False
