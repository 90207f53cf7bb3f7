"""One thin typed client per outside system (PagerDuty, Port, GitHub), and the models of their
answers; all HTTP goes through :mod:`escalator.http`."""
