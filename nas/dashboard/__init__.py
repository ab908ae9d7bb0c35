"""``python -m nas.dashboard RUN_DIR_OR_STORAGE_URL``: optuna-dashboard on a search's study, live.

The dashboard reads the study's own storage (the run directory's ``study.db``, the storage its config
names, or any storage URL), never a copy, so every trial's parameters, constraints and attributes can be
browsed while workers add trials. It listens on the loopback interface and a free port unless told
otherwise, and prints its address.
"""

from __future__ import annotations

import argparse
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from nas.cli import exits_on_usage_error
from nas.errors import UsageError
from nas.report import open_storage, resolve_target, study_names
from nas.study import hide_password


class _QuietHandler(WSGIRequestHandler):
    """No line per request: the terminal keeps the address, not the browser's polling."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@exits_on_usage_error
def make_dashboard(target: str, host: str = "127.0.0.1", port: int = 0) -> tuple[WSGIServer, str]:
    """The dashboard's server on ``target``'s storage, bound and ready (``port=0``: a free port chosen by
    the system, with no window between choosing it and binding it), and the address to open."""
    import optuna_dashboard

    url, _, _ = resolve_target(target)
    storage = open_storage(url)
    names = study_names(url)  # a storage without a study is a mistake worth one line, not an empty page
    try:
        server = make_server(host, port, optuna_dashboard.wsgi(storage), handler_class=_QuietHandler)
    except OSError as err:  # the port is taken, the host is not ours
        raise UsageError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    address = f"http://{_url_host(host)}:{server.server_port}/dashboard"
    print(f"optuna-dashboard on {hide_password(url)} ({', '.join(names)}): {address}", flush=True)
    return server, address


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nas.dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="a search's run directory, a SQLite file or an Optuna storage URL")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    args = parser.parse_args(argv)
    server, _ = make_dashboard(args.target, args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()


__all__ = ["main", "make_dashboard"]
