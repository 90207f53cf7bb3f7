"""The Port setup kit, and ``escalator port-setup`` that puts it into a Port organisation.

``data/`` holds the kit as Port's API takes it (the one source: ``examples/port/`` is copied
from it), :mod:`~escalator.kit.definitions` reads it, :mod:`~escalator.kit.plan` decides what
to change, :mod:`~escalator.kit.setup` applies that through the Port client and
:mod:`~escalator.kit.cli` is the command line. The action itself never imports this package.
"""
