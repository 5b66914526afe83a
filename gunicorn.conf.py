"""gunicorn settings for Kroniek, read by `make run`, the Dockerfile and docker-compose
(`gunicorn archive.wsgi --config gunicorn.conf.py`). The address stays on the command
line; the rest can be set from the environment.

The defaults suit a small machine (two cores) and are a starting point: `make bench`
measures throughput and latency under load, and these numbers follow its figures.
"""

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    if not value.isdigit():
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return int(value)


cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

# A request spends much of its time waiting on PostgreSQL, so one process per core plus
# one keeps the cores busy while another waits; threads within a process overlap that
# waiting further at little memory cost (gthread).
workers = _env_int("WEB_WORKERS", (cores or 1) + 1)
threads = _env_int("WEB_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"

# A search that takes longer than this is a fault to log, not a page to wait for.
timeout = _env_int("WEB_TIMEOUT", 30)
graceful_timeout = 30
# Behind a proxy that keeps connections open.
keepalive = 5

# Each process is replaced after about a thousand requests (the jitter keeps them from
# all restarting at once), so memory that grows with use stays bounded.
max_requests = _env_int("WEB_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# Shedding load: a gthread worker's threads take requests from a queue. When more than
# this many wait in it, the request a thread picks up is marked, and a reader is answered
# a quick 503 ("het is nu erg druk", archive/failures.py) instead of a page seconds late:
# the requests behind it are served in time, and a burst leaves no backlog to work off.
max_waiting = _env_int("WEB_MAX_WAITING", threads * 4)
WAITING_HEADER = "X-KRONIEK-WAITING"


def pre_request(worker, req):
    # The mark is ours alone: a client's header of that name is dropped.
    req.headers = [(name, value) for name, value in req.headers if name.upper() != WAITING_HEADER]
    # The executor's queue of requests accepted but not yet taken by a thread (gthread;
    # the sync worker has none, and never sheds).
    queue = getattr(getattr(worker, "tpool", None), "_work_queue", None)
    waiting = queue.qsize() if queue is not None else 0
    if waiting > max_waiting:
        req.headers.append((WAITING_HEADER, str(waiting)))


# Django and the app are imported once, before forking: workers start faster and share
# that memory. Safe here, as nothing connects to the database at import time (the
# embedded server starts on a worker's first query).
preload_app = True

accesslog = "-"

# Background tasks (re-checking pieces after an editor's change, archive/rechecks.py) are
# run by `manage.py db_worker`. gunicorn starts one beside its web workers and stops it
# with them, so `make run` and a single container need nothing more. With a worker of
# your own (docker-compose's `worker` service, several web hosts), set TASK_WORKER=0.
task_worker = _env_int("TASK_WORKER", 1)
_worker_process = None


def when_ready(server):
    global _worker_process
    if not task_worker:
        return
    import subprocess
    import sys
    from pathlib import Path

    manage = Path(__file__).resolve().with_name("manage.py")
    _worker_process = subprocess.Popen(
        [sys.executable, str(manage), "db_worker", "--interval", "1"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "archive.settings"},
    )
    server.log.info("Task worker started (pid %s)", _worker_process.pid)


def on_exit(server):
    if _worker_process is not None and _worker_process.poll() is None:
        _worker_process.terminate()
        try:
            _worker_process.wait(timeout=graceful_timeout)
        except Exception:
            _worker_process.kill()
