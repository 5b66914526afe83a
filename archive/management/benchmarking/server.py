"""gunicorn serving the archive on a free loopback port, and a small HTTP client for it."""

import contextlib
import http.client
import os
import re
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psutil
from django.conf import settings
from django.core.management.base import CommandError
from django.urls import reverse

HOST = "127.0.0.1"
# What gunicorn.conf.py may set that changes what is measured.
REPORTED_SETTINGS = (
    "workers",
    "worker_class",
    "threads",
    "timeout",
    "keepalive",
    "max_requests",
    "preload_app",
)
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def config_file() -> Path:
    return Path(settings.BASE_DIR) / "gunicorn.conf.py"


def gunicorn_settings() -> dict[str, str]:
    """The settings the benchmark serves with: the project's gunicorn.conf.py when there
    is one (gunicorn reads it from the working folder), else two workers."""
    if not config_file().exists():
        return {"config": "command line", "workers": "2", "worker_class": "sync"}
    found = runpy.run_path(str(config_file()))
    return {"config": "gunicorn.conf.py"} | {
        name: str(found[name]) for name in REPORTED_SETTINGS if name in found
    }


def collect_static(log) -> None:
    """With DEBUG off the pages name static files by their hashed names, which only
    collectstatic's manifest knows."""
    command = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    done = subprocess.run(command, cwd=settings.BASE_DIR, capture_output=True, text=True)
    if done.returncode:
        raise CommandError(f"collectstatic failed:\n{done.stderr[-2000:]}")
    log("Static files collected.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn archive.wsgi` in its own process group, stopped on leaving the block
    whatever happens (Ctrl-C included)."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env | {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "0",
            "ALLOWED_HOSTS": HOST,
        }
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        command = [sys.executable, "-m", "gunicorn", "archive.wsgi"]
        command += ["--bind", f"{HOST}:{self.port}", "--error-logfile", "-"]
        if not config_file().exists():
            command += ["--workers", "2"]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: Ctrl-C in the terminal reaches this process, which
                # then stops gunicorn in order, rather than killing it mid-request.
                start_new_session=True,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _wait_until_ready(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        client = Client(self.port, timeout=10)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn exited at start:\n{self.log_tail()}")
            status, _, _ = client.get("/robots.txt")
            if status == 200:
                return
            time.sleep(0.2)
        raise CommandError(f"gunicorn did not answer in {seconds:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def workers(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            return psutil.Process(self.process.pid).children()
        return []

    def rss(self) -> tuple[int, list[int]]:
        """Resident bytes of the master and of each worker."""
        master = psutil.Process(self.process.pid).memory_info().rss
        workers = []
        for worker in self.workers():
            with contextlib.suppress(psutil.Error):
                workers.append(worker.memory_info().rss)
        return master, workers

    def stop(self) -> None:
        """SIGTERM (workers finish their request and exit), then SIGKILL for the group
        if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class Client:
    """One keep-alive connection with a cookie jar; a failed request is status 0."""

    def __init__(self, port: int, timeout: float = 120):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def _headers(self, extra: dict | None = None) -> dict[str, str]:
        headers = {"Host": f"{HOST}:{self.port}", "Accept-Encoding": "identity"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers | (extra or {})

    def request(self, method: str, path: str, body=None, headers=None):
        """(status, seconds, body). A connection the server closed while idle is
        reopened once, and that attempt is not timed."""
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=self._headers(headers))
                response = self.conn.getresponse()
                content = response.read()
            except _STALE:
                self.conn.close()
                if attempt == 1:
                    continue
                return 0, time.perf_counter() - started, b""
            except (OSError, http.client.HTTPException):
                self.conn.close()
                return 0, time.perf_counter() - started, b""
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, time.perf_counter() - started, content
        raise AssertionError("unreachable")

    def get(self, path: str):
        return self.request("GET", path)

    def login(self, username: str, password: str) -> None:
        """Log in to the admin as a reader's browser would (CSRF token included)."""
        login = reverse("admin:login")
        status, _, page = self.get(login)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not token:
            raise CommandError(f"admin login page answered {status}")
        form = urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1).decode(),
                "next": reverse("admin:index"),
            }
        )
        status, _, _ = self.request(
            "POST",
            f"{login}?{urlencode({'next': reverse('admin:index')})}",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise CommandError(f"admin login failed (status {status})")

    def close(self) -> None:
        self.conn.close()
