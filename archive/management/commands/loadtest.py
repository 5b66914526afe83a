"""`make load`: the archive served by gunicorn, driven past its capacity and back, with the
database stopped mid-burst on request; prints what readers got as Markdown."""

import signal
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

from archive.management.benchmarking import load, load_report

SMOKE = {
    "pieces": 300,
    "calibration": 1.5,
    "duration": 5.0,
    "cooldown": 1.5,
    "clients": 8,
    "fault_at": 0.5,
    "fault_seconds": 1.0,
}


def _interrupt(signum, frame):
    # SIGTERM unwinds like Ctrl-C: gunicorn, the writer and the database are stopped, and
    # a database stopped for the fault is started again first.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Serves a database of --pieces generated pieces (made once under --data-root as "
        "pg-load-<size>, or kroniek_load_<size> on the DATABASE_URL server; never the "
        "archive's own) with gunicorn on 127.0.0.1 and the project's settings (rate limits "
        "and statement timeout as the environment sets them, on by default), then: a "
        "calibration at 1 client, a burst of --clients clients without pause (distinct "
        "searches, pages, feeds, JSON, CSV) while a writer adds pieces, and a cool-down at "
        "1 client. --fault stops the embedded PostgreSQL for --fault-seconds mid-burst and "
        "starts it again. Prints per phase the requests, statuses (200, 429, 503, other "
        "5xx, connection errors) and latency percentiles, how soon latency and errors "
        "recovered, and whether every acknowledged write is in the database with all its "
        "links. Sends load only to loopback."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--pieces", type=int, default=10_000, help="generated pieces (default 10000)"
        )
        parser.add_argument(
            "--calibration", type=float, default=10, help="seconds at 1 client (default 10)"
        )
        parser.add_argument(
            "--duration", type=float, default=30, help="seconds of the burst (default 30)"
        )
        parser.add_argument(
            "--cooldown", type=float, default=20, help="seconds at 1 client after (default 20)"
        )
        parser.add_argument(
            "--clients", type=int, default=48, help="clients in the burst (default 48)"
        )
        parser.add_argument(
            "--max-requests",
            type=int,
            default=50_000,
            help="the most requests a phase sends, whatever its duration (default 50000)",
        )
        parser.add_argument(
            "--clients-as-addresses",
            type=int,
            default=64,
            dest="addresses",
            help="simulated client addresses the requests are spread over, sent as "
            "X-Forwarded-For to a server trusting one proxy, so each meets its own rate "
            "limit; 0 sends everything from one address (default 64)",
        )
        parser.add_argument(
            "--fault",
            action="store_true",
            help="stop the embedded PostgreSQL (pg_ctl stop -m fast) mid-burst, then start it",
        )
        parser.add_argument(
            "--fault-at",
            type=float,
            default=None,
            help="seconds into the burst the database is stopped (default a third of it)",
        )
        parser.add_argument(
            "--fault-seconds",
            type=float,
            default=5,
            help="seconds the database stays down (default 5)",
        )
        parser.add_argument(
            "--data-root",
            type=Path,
            default=Path(settings.BASE_DIR) / ".bench",
            help="folder of the embedded data folder pg-load-<size> and the logs (default .bench/)",
        )
        parser.add_argument("--seed", type=int, default=1, help="corpus and request seed")
        parser.add_argument("--output", type=Path, help="also write the report to this file")
        parser.add_argument(
            "--smoke",
            action="store_true",
            help="the whole path in seconds: 300 pieces, 8 clients, phases of 1.5/5/1.5 s "
            "(with --fault, the database down for 1 s from 0.5 s into the burst)",
        )

    def handle(self, *args, smoke, **options):
        if smoke:
            options.update(SMOKE)
        numbers = ("pieces", "clients", "max_requests", "calibration", "duration", "cooldown")
        if any(options[name] <= 0 for name in numbers) or options["fault_seconds"] <= 0:
            raise CommandError(
                "--pieces, --clients, --max-requests, the phases' seconds and "
                "--fault-seconds must be positive"
            )
        if options["addresses"] < 0:
            raise CommandError("--clients-as-addresses cannot be negative")
        fault_at = options["fault_at"]
        fault_at = options["duration"] / 3 if fault_at is None else fault_at
        if not 0 <= fault_at < options["duration"]:
            raise CommandError("--fault-at must fall within the burst (0 to --duration)")
        if "generate_corpus" not in get_commands():
            raise CommandError("the generate_corpus command is missing: no corpus to build")
        plan = load.Options(
            pieces=options["pieces"],
            data_root=options["data_root"].resolve(),
            seed=options["seed"],
            calibration=options["calibration"],
            duration=options["duration"],
            cooldown=options["cooldown"],
            clients=options["clients"],
            max_requests=options["max_requests"],
            addresses=options["addresses"],
            fault=options["fault"],
            fault_at=fault_at,
            fault_seconds=options["fault_seconds"],
        )
        plan.data_root.mkdir(parents=True, exist_ok=True)

        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            result = load.run(plan, log=self.stdout.write)
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted; gunicorn, the writer and the database servers are stopped."
            ) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
        text = load_report.render(result)
        self.stdout.write("\n" + text)
        if options["output"]:
            options["output"].parent.mkdir(parents=True, exist_ok=True)
            options["output"].write_text(text, encoding="utf-8")
            self.stdout.write(f"Written to {options['output']}.")
