"""``python -m ganzoo``: the same command line as ``ganzoo``."""

from ganzoo.cli import main

main()
