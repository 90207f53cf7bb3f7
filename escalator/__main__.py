"""``python -m escalator``: the command line."""

from escalator.cli import main

raise SystemExit(main())
