"""Run one benchmark of wineq, or list them.

    python -m bench --list
    python -m bench NAME [ARGS...]
    python -m bench NAME --help

For example `python -m bench quality ../shared/datasets/uci-wine-quality`. Run it from the
repository root, where both `bench` and the shared helpers `tests.support` are importable.
"""

from __future__ import annotations

import importlib
import sys

from . import BENCHMARKS, summary_of

USAGE = "usage: python -m bench [--list] NAME [ARGS...]"


def listing() -> str:
    width = max(len(name) for name in BENCHMARKS)
    return "\n".join(f"{name:<{width}}  {summary_of(name)}" for name in BENCHMARKS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--list"]:
        print(listing())
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print(f"{USAGE}\n\nbenchmarks:\n{listing()}", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        print(
            f"{USAGE}\nError: no benchmark {name!r}; `python -m bench --list` names them",
            file=sys.stderr,
        )
        return 2
    # argparse names the program after sys.argv[0], so each benchmark's --help shows how to call it
    sys.argv[0] = f"python -m bench {name}"
    return importlib.import_module(BENCHMARKS[name]).main(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
