"""``python -m escalator.sandbox``: run the sandbox in the foreground."""

import sys

from escalator.sandbox.cli import main

sys.exit(main())
