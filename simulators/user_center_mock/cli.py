"""`step-platform token`: mint a user-center token (or print the public key) offline.

It signs with the same key a user-center-mock started from the same directory uses (the
state dir's, or `--key FILE`), so the token verifies against the running services.

    step-platform token --user-id 2098611d-32e2-4d8f-acea-76570af65843 --ttl 600 --role admin
    step-platform token --public-key
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

from step_platform.core.ids import canonical_uuid
from step_platform.core.settings import ConfigError

from . import keys, tokens
from .app import DEFAULT_ISSUER


def token_command(args: argparse.Namespace) -> int:
    env = os.environ
    try:
        if args.key:
            pair = keys.load(Path(args.key))
        else:
            key_file = env.get("USER_CENTER_KEY_FILE")
            path = Path(key_file) if key_file else keys.state_key_path(keys.state_dir(env))
            pair = keys.load(path) if key_file else keys.load_or_create(path)
    except ConfigError as exc:
        print(f"step-platform: {exc}", file=sys.stderr)
        return 2
    if args.public_key:
        sys.stdout.write(pair.public_pem)
        return 0
    user_id = canonical_uuid(args.user_id or str(uuid.uuid4()))
    if user_id is None:
        print(f"step-platform: --user-id {args.user_id!r} is not a UUID", file=sys.stderr)
        return 2
    issuer = env.get("USER_CENTER_ISSUER") or DEFAULT_ISSUER
    token = tokens.mint(
        pair, issuer=issuer, user_id=user_id, roles=list(args.role or []), ttl=int(args.ttl)
    )
    print(token)
    return 0
