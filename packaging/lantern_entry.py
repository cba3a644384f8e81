"""The frozen app's entry point: ``lantern ARGS`` is ``python main.py ARGS``.

Lantern starts some work in child processes as ``sys.executable -c CODE ARGS`` (the OSM reader in
``layers/osm.py``, the tile cutter in ``layers/tiles.py``). In a frozen app ``sys.executable`` is this program,
not a Python, so ``lantern -c CODE ARGS`` plays that part here — for Lantern's own child entry points only
(``from layers.osm import _child_main; _child_main()``), never for arbitrary code.
"""
from __future__ import annotations

import importlib
import re
import sys

#: the only code a child process is started with: ``from <lantern module> import _<function>; _<function>()``
CHILD_CODE = re.compile(r"from ((?:layers|audit|mapping)(?:\.\w+)*) import (_\w+); \2\(\)")


def run_child(code: str, args: list[str]) -> int:
    """Do what ``python -c code args`` would for one of Lantern's child entry points."""
    match = CHILD_CODE.fullmatch(code.strip())
    if not match:
        print(f"lantern: -c runs only Lantern's own child processes, not {code!r}", file=sys.stderr)
        return 2
    sys.argv = ["-c", *args]  # what the child sees under ``python -c``
    getattr(importlib.import_module(match.group(1)), match.group(2))()
    return 0


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "-c":
        return run_child(sys.argv[2], sys.argv[3:])
    import main as lantern

    return lantern.run()


if __name__ == "__main__":
    sys.exit(main())
