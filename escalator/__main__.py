"""``python -m escalator``: the command line."""

from escalator.faces.cli import main

raise SystemExit(main())
