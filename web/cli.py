"""`kundenstamm serve` and `kundenstamm user add|remove`."""

from __future__ import annotations

import argparse
import getpass
import sys

from warehouse.settings import Settings
from web.store import ROLES, Store, store_path


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from web.app import create_app

    settings = Settings.from_env()
    app = create_app(settings, store_path(settings))
    print(f"serving {settings.published_path.resolve()} on http://{args.host}:{args.port}/ "
          f"(users and audit log: {store_path(settings).resolve()})", flush=True)
    # One process: the published file is opened once and followed across versions.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=True,
                forwarded_allow_ips=args.forwarded_allow_ips)
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise SystemExit("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _cmd_user(args: argparse.Namespace) -> int:
    store = Store(store_path(Settings.from_env()))
    try:
        if args.action == "add":
            password = _read_password()
            try:
                store.add_user(args.name, args.role, password)
            except ValueError as error:
                print(error, file=sys.stderr)
                return 2
            print(f"user {args.name} ({args.role}) saved")
            return 0
        if not store.remove_user(args.name):
            print(f"no user {args.name}", file=sys.stderr)
            return 1
        print(f"user {args.name} removed")
        return 0
    finally:
        store.close()


def add_commands(sub) -> None:
    serve = sub.add_parser("serve", help="the lookup and review web app over the published golden file")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default: localhost only)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                       help="reverse proxies whose X-Forwarded-* headers are trusted")
    serve.set_defaults(func=_cmd_serve)

    user = sub.add_parser("user", help="add or remove a user of the web app (password read from stdin)")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a user, or set a user's role and password")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.set_defaults(func=_cmd_user)
    remove = actions.add_parser("remove", help="remove a user and end their sessions")
    remove.add_argument("name")
    remove.set_defaults(func=_cmd_user)
