"""A loopback fake of PagerDuty and Port for demos and end-to-end tests.

Nothing in the action's normal path imports this package; only ``escalator sandbox`` does.
"""

from escalator.sandbox.server import Sandbox

__all__ = ["Sandbox"]
