"""HTTP for every outside call: the run's deadline, retry policies, and one transport per service.

- :mod:`escalator.http.deadline`: the clock and the run's one time budget;
- :mod:`escalator.http.policy`: the retry policies as named values and the wait before a retry;
- :mod:`escalator.http.body`: reading a body within the time left and a size cap;
- :mod:`escalator.http.network`: the proxy and CA bundle, read explicitly from the environment;
- :mod:`escalator.http.interim`: connections that read past interim (1xx) answers;
- :mod:`escalator.http.answer`: an answer read whole, and the JSON of bodies;
- :mod:`escalator.http.attempt`: one attempt, and why ``requests`` got no answer;
- :mod:`escalator.http.transport`: one session per service, the one retry loop, and no answer
  turned into the project's errors.

The clients never import ``requests``; they call :meth:`Transport.request` with a :class:`Policy`.
"""

from escalator.errors import OutcomeUnknown
from escalator.http.deadline import Clock, Deadline, SystemClock
from escalator.http.policy import Policy
from escalator.http.transport import HttpResponse, Transport, parse_json_body

__all__ = [
    "Clock",
    "Deadline",
    "HttpResponse",
    "OutcomeUnknown",
    "Policy",
    "SystemClock",
    "Transport",
    "parse_json_body",
]
