"""A real, throw-away Synapse homeserver for Matrix integration tests.

Synapse lives in its own venv (``.venv-synapse``, created by ``.ci/install-synapse.sh``);
this module only drives it through subprocesses and HTTP, so the test venv needs neither
Synapse nor PyYAML (YAML is a superset of JSON: the rewritten config is written as JSON).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = Path(os.environ.get("STADTLABOR_SYNAPSE_VENV") or REPO_ROOT / ".venv-synapse")
MatrixUser = tuple[str, str, str]  # (user_id, access_token, password)
HIGH_LIMIT: dict[str, float] = {"per_second": 1000.0, "burst_count": 10000.0}

# Every request rate limit Synapse 1.16x knows (unknown keys are ignored by Synapse).
_FLAT_LIMITS = (
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_admin_redaction",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_3pid_validation",
    "rc_third_party_invite",
    "rc_media_create",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
)
_NESTED_LIMITS = {
    "rc_login": ("address", "account", "failed_attempts"),
    "rc_joins": ("local", "remote"),
    "rc_invites": ("per_room", "per_user", "per_issuer"),
    "rc_presence": ("per_user",),
}


class SynapseError(RuntimeError):
    """Synapse could not be set up, did not become healthy, or refused a request."""


def synapse_python(venv: Path = DEFAULT_VENV) -> Path:
    return venv / "bin" / "python"


def synapse_installed(venv: Path = DEFAULT_VENV) -> bool:
    python = synapse_python(venv)
    if not python.exists():
        return False
    probe = subprocess.run([str(python), "-c", "import synapse"], capture_output=True, check=False)
    return probe.returncode == 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rate_limit_overrides(rc_message: tuple[float, float] | None = None) -> dict[str, Any]:
    """Config entries raising every ``rc_*`` limit; ``rc_message=(per_second, burst)``
    sets the message limit instead (e.g. ``(0.1, 2)`` to provoke ``M_LIMIT_EXCEEDED``)."""
    config: dict[str, Any] = {key: dict(HIGH_LIMIT) for key in _FLAT_LIMITS}
    for key, subkeys in _NESTED_LIMITS.items():
        config[key] = {sub: dict(HIGH_LIMIT) for sub in subkeys}
    if rc_message is not None:
        config["rc_message"] = {"per_second": rc_message[0], "burst_count": rc_message[1]}
    return config


class SynapseServer:
    """Context manager: generate a test config in a temp dir, run Synapse, stop it."""

    server_name = "localhost"

    def __init__(
        self,
        *,
        venv: Path = DEFAULT_VENV,
        rc_message: tuple[float, float] | None = None,
        extra_config: dict[str, Any] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.venv = venv
        self.rc_message = rc_message
        self.extra_config = extra_config or {}
        self.startup_timeout = startup_timeout
        self.port = 0
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._secret = ""
        self.config: dict[str, Any] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        if self._tmp is None:
            raise SynapseError("SynapseServer is not started")
        return Path(self._tmp.name)

    # -- configuration ----------------------------------------------------------------------
    def _run_python(self, *args: str) -> str:
        result = subprocess.run(
            [str(synapse_python(self.venv)), *args],
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SynapseError(f"{' '.join(args[:3])} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def _write_config(self) -> Path:
        data = self.data_dir
        config_path = data / "homeserver.yaml"
        self._run_python(
            "-m",
            "synapse.app.homeserver",
            "--server-name",
            self.server_name,
            "--config-path",
            str(config_path),
            "--generate-config",
            "--report-stats=no",
            "--data-directory",
            str(data),
        )
        # Parse the generated YAML with Synapse's own PyYAML (a grep would also hit comments).
        loader = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"
        config: dict[str, Any] = json.loads(self._run_python("-c", loader, str(config_path)))
        self.port = _free_port()
        log_config = data / "log.config.yaml"
        log_config.write_text(json.dumps(_log_config(data / "homeserver.log")))
        config.update(
            listeners=[
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            database={"name": "sqlite3", "args": {"database": str(data / "homeserver.db")}},
            log_config=str(log_config),
            pid_file=str(data / "homeserver.pid"),
            media_store_path=str(data / "media_store"),
            trusted_key_servers=[],
            suppress_key_server_warning=True,
            federation_domain_whitelist=[],
            presence={"enabled": False},
            enable_registration=False,
            enable_metrics=False,
            report_stats=False,
            url_preview_enabled=False,
            bcrypt_rounds=4,  # password hashing at 12 rounds costs ~0.3 s per register/login
        )
        config.update(rate_limit_overrides(self.rc_message))
        config.update(self.extra_config)
        config_path.write_text(json.dumps(config, indent=2))
        self._secret = str(config["registration_shared_secret"])
        self.config = config
        return config_path

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> SynapseServer:
        if self._process is not None:
            return self
        if not synapse_installed(self.venv):
            raise SynapseError(f"Synapse is not installed in {self.venv}: .ci/install-synapse.sh")
        self._tmp = tempfile.TemporaryDirectory(prefix="synapse-test-")
        try:
            config_path = self._write_config()
            stdout = (self.data_dir / "stdout.log").open("wb")
            self._process = subprocess.Popen(
                [
                    str(synapse_python(self.venv)),
                    "-m",
                    "synapse.app.homeserver",
                    "--config-path",
                    str(config_path),
                ],
                cwd=self.data_dir,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            stdout.close()
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise SynapseError(
                    f"Synapse exited with {self._process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise SynapseError(
            f"Synapse not healthy within {self.startup_timeout}s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SynapseServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        """Last lines of Synapse's stdout/stderr and its log file (for error messages)."""
        parts = []
        for name in ("stdout.log", "homeserver.log"):
            path = self.data_dir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name} ---\n" + "\n".join(tail))
        return "\n".join(parts) or "(no log output)"

    # -- API helpers ------------------------------------------------------------------------
    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """JSON request to the homeserver; raises SynapseError with the body on HTTP errors."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base_url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                answer: dict[str, Any] = json.loads(resp.read())
                return answer
        except urllib.error.HTTPError as err:
            raise SynapseError(f"{method} {path}: {err.code} {err.read().decode()}") from None

    def register_user(self, localpart: str, password: str, admin: bool = False) -> tuple[str, str]:
        """Register via the shared-secret admin API; return ``(user_id, access_token)``."""
        nonce = str(self.request("GET", "/_synapse/admin/v1/register")["nonce"])
        mac = hmac.new(self._secret.encode(), digestmod=hashlib.sha1)
        kind = b"admin" if admin else b"notadmin"
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), kind]))
        answer = self.request(
            "POST",
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        return str(answer["user_id"]), str(answer["access_token"])


def _log_config(path: Path) -> dict[str, Any]:
    level = os.environ.get("SYNAPSE_TEST_LOG_LEVEL", "INFO")
    return {
        "version": 1,
        "formatters": {"precise": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "filename": str(path),
                "formatter": "precise",
                "encoding": "utf8",
            },
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "precise",
                "level": "WARNING",
            },
        },
        "loggers": {"synapse.storage.SQL": {"level": "WARNING"}},
        "root": {"level": level, "handlers": ["file", "console"]},
        "disable_existing_loggers": False,
    }
