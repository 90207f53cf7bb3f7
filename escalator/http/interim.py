"""An adapter whose connections read past interim answers (``1xx``, such as ``103 Early Hints``)
to the final one.

``http.client`` skips only ``100 Continue``: any other interim answer would be taken as the
answer, and the real one left on the connection for the next request to read. The connections
here use a response class (``response_class``, the hook ``http.client`` and urllib3 document for
this) that reads on to the final status, through urllib3's public ``ConnectionCls`` and the pool
manager's ``pool_classes_by_scheme``.
"""

from __future__ import annotations

import http.client
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

#: More interim answers than this before the final one is a broken answer.
MAX_INTERIM = 8


class FinalResponse(http.client.HTTPResponse):
    """A response that is never interim: ``begin`` reads heads until a final status."""

    def begin(self) -> None:
        super().begin()
        for _ in range(MAX_INTERIM):
            if not _interim(self.status):
                return
            self.headers = self.msg = None  # type: ignore[assignment]  # read the next head
            super().begin()
        if _interim(self.status):
            raise http.client.HTTPException(f"more than {MAX_INTERIM} interim answers")


def _interim(status: int) -> bool:
    """1xx but 101 (Switching Protocols ends HTTP/1.1 on the connection: it is final)."""
    return 100 <= status < 200 and status != 101


class _Connection(HTTPConnection):
    response_class = FinalResponse


class _TLSConnection(HTTPSConnection):
    response_class = FinalResponse


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


POOL_CLASSES: dict[str, type[HTTPConnectionPool]] = {"http": _Pool, "https": _TLSPool}


class FinalAnswerAdapter(HTTPAdapter):
    """``requests``' adapter, with pools whose connections skip interim answers."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> ProxyManager:
        manager: ProxyManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS managers bring pools of their own
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager
