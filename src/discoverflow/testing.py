"""Support for testing flows on jobflow-remote in one process, without a MongoDB server."""

from __future__ import annotations

import mongomock_ng as mongomock
from maggma.stores import MemoryStore


class SharedMemoryStore(MemoryStore):
    """A MemoryStore whose collections live in one process-wide mongomock client, so that
    the queue, the job store and the Runner see the same data (as with a real MongoDB)."""

    _client: mongomock.MongoClient | None = None

    def connect(self, force_reset: bool = False) -> None:
        if self._coll is None or force_reset:
            if SharedMemoryStore._client is None:
                SharedMemoryStore._client = mongomock.MongoClient()
            self._coll = SharedMemoryStore._client["discoverflow"][self.collection_name]

    def close(self) -> None:
        """Keep the shared client open for the other stores."""

    @classmethod
    def reset_all(cls) -> None:
        cls._client = None
