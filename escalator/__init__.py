"""escalate-action: escalate a PagerDuty incident from a Port self-service action."""

__version__ = "1.0.0"
