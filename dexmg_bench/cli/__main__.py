"""``python -m dexmg_bench.cli``."""

from dexmg_bench.cli import main

main()
