"""The container's entrypoint: run the action as the GitHub runner starts it."""

import gc
import os
import sys
from pathlib import Path

# Nothing this short-lived process allocates needs collecting before it ends: skipping the
# collector saves tens of milliseconds of start-up and shutdown (pydantic and requests make many
# objects at import).
gc.disable()

# The action uses no pydantic plugin: without this, pydantic scans every installed package's
# entry points (importlib.metadata) when it builds the first model, tens of milliseconds.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# The image puts the package beside this file; a checkout run directly does the same.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from escalator.faces.action import main  # noqa: E402  # after the path is set

if __name__ == "__main__":
    code = main()
    # Every output and summary file is closed and the Port logs are flushed by now: leave at once
    # instead of tearing the interpreter down object by object.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
