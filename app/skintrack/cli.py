"""The ``skintrack`` command line (contract in DESIGN.md). No subcommand opens the GUI.

Each group of subcommands lives in ``skintrack.commands.<group>`` and exposes
``register(subparsers)``; handlers receive the parsed namespace and return an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from skintrack import package_version
from skintrack.allocator import share_one_arena
from skintrack.errors import EXIT_ERROR, EXIT_USAGE, SkintrackError


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors, which matches our contract.

    Prefix matching is off (``--dat`` is not ``--date``): a typo must fail, not guess. Sub-parsers
    are made with the parent's class, so this holds for every subcommand.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)


class _VersionAction(argparse.Action):
    """``--version``, with the version looked up only when asked for."""

    def __init__(
        self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object
    ) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show the version and exit"
        )

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        print(f"skintrack {package_version()}")  # stdout, as argparse's own version action
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from skintrack.commands import capture_cmds, card_cmd, export_cmds, inbox_cmds, library_cmds, measure_cmds

    parser = _Parser(
        prog="skintrack",
        description="Track slow skin colour change from dated photos. Not a diagnostic device.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument(
        "--library", metavar="DIR", help="library folder (default: $SKINTRACK_LIBRARY or the user data dir)"
    )
    parser.add_argument("--demo", action="store_true", help="open the GUI on a generated demo library")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    library_cmds.register(sub)
    measure_cmds.register(sub)
    export_cmds.register(sub)
    card_cmd.register(sub)
    capture_cmds.register(sub)
    inbox_cmds.register(sub)
    return parser


def _add_library_flag_to_subcommands(parser: argparse.ArgumentParser) -> None:
    """Accept ``--library`` after the subcommand too (``skintrack region list --library X``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                if not any("--library" in a.option_strings for a in subparser._actions):
                    subparser.add_argument(
                        "--library", metavar="DIR", default=argparse.SUPPRESS, help="library folder"
                    )
                _add_library_flag_to_subcommands(subparser)


def main(argv: Sequence[str] | None = None) -> int:
    share_one_arena()  # before any thread: see skintrack.allocator
    parser = build_parser()
    _add_library_flag_to_subcommands(parser)
    parser.set_defaults(handler=None)  # a command group given without its subcommand has none
    args = parser.parse_args(argv)
    if args.command is None:
        return gui_main_with(args)
    handler = args.handler
    if handler is None:
        parser.parse_args([args.command, "--help"])
        return EXIT_USAGE
    try:
        return int(handler(args) or 0)
    except SkintrackError as exc:
        print(f"skintrack: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("skintrack: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        import traceback

        traceback.print_exc()
        print(f"skintrack: unexpected error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def gui_main_with(args: argparse.Namespace) -> int:
    from skintrack.ui.app import run_gui

    return run_gui(library=args.library, demo=args.demo)


def gui_main() -> int:
    """Entry point of the ``skintrack-gui`` script."""
    return main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
