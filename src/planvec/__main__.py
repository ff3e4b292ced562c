"""``python -m planvec``."""

from planvec.cli.main import main

main()
