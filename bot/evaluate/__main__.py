"""``python -m bot.evaluate FILE ...``: the same as ``citebot eval FILE ...``."""

from __future__ import annotations

import argparse
import sys

from bot.evaluate.command import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluate")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["eval", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
