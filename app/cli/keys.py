"""`kiln keys …`: create, list (hints only: a key is shown once, when made), revoke."""

import argparse

from app.cli.common import announce, error, run


def cmd_create(args: argparse.Namespace) -> int:
    from app.services.apps.keys import create_key

    try:
        key = run(create_key(args.app))
    except LookupError as exc:
        return error(str(exc))
    print(key)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from app.services.apps.keys import list_keys

    try:
        app, keys = run(list_keys(args.app))
    except LookupError as exc:
        return error(str(exc))
    for key in keys:
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
        print(f"{key.id}  {key.hint:<12} created {key.created_at:%Y-%m-%d %H:%M}  {used}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from app.services.apps.keys import revoke_key

    try:
        app_id = run(revoke_key(args.key_id))
    except LookupError as exc:
        return error(str(exc))
    run(announce(app_id))
    print(f"revoked {args.key_id}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="keys", required=True)
    create = keys.add_parser("create", help="create an API key for an app")
    create.add_argument("app", help="app id or name")
    create.set_defaults(func=cmd_create)
    listing = keys.add_parser("list", help="list an app's keys (hints only)")
    listing.add_argument("app", help="app id or name")
    listing.set_defaults(func=cmd_list)
    revoke = keys.add_parser("revoke", help="revoke a key by its id (from `keys list`)")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=cmd_revoke)
