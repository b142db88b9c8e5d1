"""``python -m components.preview``: see ``components/preview/cli.py``."""
from __future__ import annotations

import sys

from components.common.logs import configure
from components.preview.cli import run


def main(argv: list[str] | None = None) -> int:
    configure()
    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
