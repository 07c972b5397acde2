"""`step-platform demo | serve NAME | migrate | configs load | token | schema config-format`.

Each service module exposes `Settings.from_env(env)` and `create_app(settings)`; `serve` maps
simulator flags onto their environment names, so settings are still read in one place.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .asgi import SERVICES, app_from_env
from .core.settings import ConfigError

# serve flags that simulators take, and the environment names they stand for
FLAG_ENV = {"key": "USER_CENTER_KEY_FILE", "seed": "RAIDA_SEED_FILE", "state": "RAIDA_STATE_FILE"}


def fail(message: str) -> int:
    print(f"step-platform: {message}", file=sys.stderr)
    return 2


GRACEFUL_SHUTDOWN = 3  # seconds


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    entry = SERVICES[args.name]
    env = dict(os.environ)
    for flag, name in FLAG_ENV.items():
        value = getattr(args, flag, None)
        if value:
            env[name] = os.path.abspath(value)
    from .core.http_protocol import MAX_HEAD_BYTES, EnvelopeH11Protocol

    try:
        app = app_from_env(args.name, env)
    except ConfigError as exc:
        return fail(str(exc))
    port = args.port or entry.port
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=port,
            log_config=None,
            access_log=False,
            workers=1,
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            # SIGTERM: requests still running after this many seconds are cancelled (blocking
            # queries `?index=N&wait=...` and hung ones alike), so a stop never hangs
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
            http=EnvelopeH11Protocol,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        )
    except SystemExit as exc:  # uvicorn exits when the port is taken
        if exc.code:
            return fail(f"{args.name} could not listen on {args.host}:{port} (port in use?)")
        raise
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from .registry.migrations import migrate_from_env

    try:
        applied = migrate_from_env(dict(os.environ))
    except ConfigError as exc:
        return fail(str(exc))
    print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")
    return 0


def cmd_configs_load(args: argparse.Namespace) -> int:
    from .devstack.configs_loader import load_file

    try:
        loaded = load_file(
            args.file,
            project_id=args.project_id,
            account_id=args.account_id,
            registry_url=args.registry_url,
        )
    except (ConfigError, ValueError, OSError) as exc:
        return fail(str(exc))
    print(f"loaded {len(loaded)} config types: {', '.join(loaded)}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from user_center_mock.cli import token_command

    return token_command(args)


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the published config format: step's registration body, JSON Schema per type."""
    import json

    from .contests.registration import registration_body

    print(json.dumps(registration_body(), ensure_ascii=False, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .devstack.demo import demo_command

    return demo_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="step-platform", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        help="start the whole chain locally and print how to use it",
        description="Start the whole chain on the seed's ports and print how to use it.",
        epilog="Ports: nginx moves with --port (make demo ARGS='--port 18000'); the backends "
        "move with STEP_DEMO_PORTS=configs=N,registry=N,step=N[+N],raida=N,user_center=N.",
    )
    demo.add_argument("--check", action="store_true", help="run a user journey, exit 0 or 1")
    demo.add_argument("--domain", default="step.localhost")
    demo.add_argument("--port", type=int, default=8000, help="nginx listen port")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run one service")
    serve.add_argument("name", choices=sorted(SERVICES))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--key", help="user-center-mock: RSA private key file (PEM)")
    serve.add_argument("--seed", help="raida-mock: seed fixture (JSON)")
    serve.add_argument("--state", help="raida-mock: persist state in this file")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply the registry's migrations (DB_* env)")
    migrate.set_defaults(func=cmd_migrate)

    configs = sub.add_parser("configs", help="config sets")
    configs_sub = configs.add_subparsers(dest="configs_command", required=True)
    load = configs_sub.add_parser("load", help="load a config set (JSON or seed section 8)")
    load.add_argument("file")
    load.add_argument("--project-id", required=True)
    load.add_argument("--account-id", default=None)
    load.add_argument(
        "--registry-url", default=os.environ.get("STEP_REGISTRY_URL", "http://127.0.0.1:8002")
    )
    load.set_defaults(func=cmd_configs_load)

    token = sub.add_parser("token", help="mint a user-center token for curl and demos")
    token.add_argument("--user-id", default=None)
    token.add_argument("--ttl", type=int, default=3600)
    token.add_argument("--role", action="append", default=[])
    token.add_argument("--key", default=None, help="private key file (default: the state dir's)")
    token.add_argument("--public-key", action="store_true", help="print the PEM public key")
    token.set_defaults(func=cmd_token)

    schema = sub.add_parser("schema", help="print a published JSON Schema")
    schema.add_argument("name", choices=["config-format"], help="config-format: step's configs")
    schema.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
