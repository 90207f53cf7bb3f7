"""The container's entrypoint: run the action as the GitHub runner starts it."""

import sys
from pathlib import Path

# The image puts the package beside this file; a checkout run directly does the same.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from escalator.action import main  # after the path is set

if __name__ == "__main__":
    sys.exit(main())
