"""JupyterHub for a class taking the course, on one machine: JupyterLab opening notebook 00, the course environment,
a memory limit sized from the measurements, idle servers culled.

Start it from the repository's root (after the set-up and `npm ci`, which installs configurable-http-proxy)::

    COSP_HUB_ADMINS=lecturer .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

and open http://127.0.0.1:8000. Everything listens on 127.0.0.1 only: put a TLS-terminating web server in front of it
to open it to a class. Settings, from the environment:

``COSP_HUB_AUTH``        ``native`` (default): NativeAuthenticator. Students sign up with a user name and a password;
                         the lecturer (an admin) authorizes each one at /hub/authorize before they can log in.
                         ``dummy``: any user name with the shared password ``COSP_HUB_PASSWORD``; for the load test and
                         trying the hub out, never for a class.
``COSP_HUB_ADMINS``      comma-separated admin user names (the lecturers), for ``native``.
``COSP_HUB_PORT``        the public port (default 8000); the hub's API uses the next port, the proxy's API the one after.
``COSP_HUB_STATE``       where the hub keeps its database, its cookie secret and the students' homes (default
                         ``build/hub``).
``COSP_HUB_MEM_LIMIT``   memory per student (default ``1.5G``). It is checked against the measurements in
                         ``measured.json`` (``capacity.py``): a limit below what the heaviest notebook needs is refused
                         and the hub does not start.
``COSP_HUB_CULL_AFTER``  seconds of inactivity after which a student's server is stopped (default 3600).
``COSP_HUB_ADMIN_TOKEN`` if set, a service ``course-admin`` with this API token may create users, start their servers
                         and use them: what the load test (``loadtest.py``) drives the hub with.

Each student's server runs ``jupyterhub-singleuser`` from this environment (the course's pins: the same as Binder's,
plus the hub) in a home of their own under the state folder, where the course's notebooks are copied at their first
start (a student's later edits are never overwritten). The kernels use one thread each (the benchmark's advice for a
shared machine), and run a notebook's repeated runs one after the other (``COSP_WORKERS=1``), so that one student's
notebook never takes two cores from the others. This hub runs every student's server as the same system user as the hub
(``SimpleLocalProcessSpawner``): students are not isolated from each other, and the memory limit is passed to the
server (``MEM_LIMIT``, shown by resource monitors) but not enforced. For a class that needs isolation and enforced
limits, use the Kubernetes values in ``z2jh-values.yaml`` (Zero to JupyterHub), or The Littlest JupyterHub with the
same settings.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import capacity  # noqa: E402

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

STATE = Path(os.environ.get("COSP_HUB_STATE", ROOT / "build" / "hub")).resolve()
PORT = int(os.environ.get("COSP_HUB_PORT", "8000"))
AUTH = os.environ.get("COSP_HUB_AUTH", "native")
MEM_LIMIT = os.environ.get("COSP_HUB_MEM_LIMIT", "1.5G")
CULL_AFTER = int(os.environ.get("COSP_HUB_CULL_AFTER", "3600"))
DEFAULT_URL = "/lab/tree/notebooks/00_start_here.ipynb"
PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
# one thread per kernel, and one process for a notebook's repeated runs (cosp.parallel_map): students share the cores
ONE_CORE = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "COSP_WORKERS": "1"}

capacity.check_memory_limit(MEM_LIMIT)  # a ValueError here stops the hub, with the reason
if not PROXY.is_file():
    raise FileNotFoundError(f"{PROXY} is missing: run `npm ci` at the repository's root (package.json pins it)")
STATE.mkdir(parents=True, exist_ok=True)

# --- network: loopback only ---------------------------------------------------------------------------------------
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = PORT
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = PORT + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.Spawner.ip = "127.0.0.1"

# --- state --------------------------------------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# --- the students' servers ------------------------------------------------------------------------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "users" / "{username}")
c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
# A server must listen on the port the hub gave it, or fail to start: by default Jupyter moves to another port when its
# own is taken, and the proxy would then send the student to whatever holds the port (another student's server).
c.Spawner.args = ["--ServerApp.port_retries=0"]
if os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")  # Jupyter refuses root without it (e.g. a container)
c.Spawner.default_url = DEFAULT_URL
c.Spawner.mem_limit = MEM_LIMIT
c.Spawner.environment = dict(ONE_CORE)
c.Spawner.start_timeout = 300  # a class starting at once on a small machine
c.Spawner.http_timeout = 300


def copy_course(spawner) -> None:
    """Put the course's notebooks in the student's home at the first start; never overwrite what is there."""
    notebooks = Path(spawner.home_dir) / "notebooks"
    if not notebooks.exists():
        notebooks.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


PORTS_IN_USE: set[int] = set()  # the ports given to the servers of this hub that have not stopped


def give_port(spawner) -> None:
    """A free port that no other server of this hub holds. The spawner's own choice (``random_port``, a port the system
    reports free) can give two servers that start at the same moment the same port, before either listens on it."""
    from jupyterhub.utils import random_port

    for _ in range(100):
        port = random_port()
        if port not in PORTS_IN_USE:
            PORTS_IN_USE.add(port)
            spawner.port = port
            return
    raise RuntimeError("no free port for the student's server")


def before_start(spawner) -> None:
    copy_course(spawner)
    give_port(spawner)


def after_stop(spawner) -> None:
    PORTS_IN_USE.discard(spawner.port)


c.Spawner.pre_spawn_hook = before_start
c.Spawner.post_stop_hook = after_stop

# --- idle culling ----------------------------------------------------------------------------------------------------
services = [
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={CULL_AFTER}", "--cull-every=300"],
    }
]
roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
if os.environ.get("COSP_HUB_ADMIN_TOKEN"):
    services.append({"name": "course-admin", "api_token": os.environ["COSP_HUB_ADMIN_TOKEN"]})
    roles.append(
        {
            "name": "course-admin",
            "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users"],
            "services": ["course-admin"],
        }
    )
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles

# --- who may log in ----------------------------------------------------------------------------------------------------
if AUTH == "native":
    import nativeauthenticator

    c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
    c.JupyterHub.template_paths = [str(Path(nativeauthenticator.__file__).parent / "templates")]
    c.NativeAuthenticator.open_signup = False  # a signed-up student waits for the lecturer's authorization
    c.Authenticator.allow_all = True  # everyone the lecturer authorized
    c.Authenticator.admin_users = {name.strip() for name in os.environ.get("COSP_HUB_ADMINS", "").split(",") if name}
elif AUTH == "dummy":
    if not os.environ.get("COSP_HUB_PASSWORD"):
        raise ValueError("COSP_HUB_AUTH=dummy needs a shared password in COSP_HUB_PASSWORD")
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ["COSP_HUB_PASSWORD"]
    c.Authenticator.allow_all = True
else:
    raise ValueError(f"COSP_HUB_AUTH must be 'native' (a class) or 'dummy' (tests), got {AUTH!r}")
