"""The sync loop: one catch-up sync (full state, timeline ignored), then long polls.

After each sync the token goes into the database and the end-to-end housekeeping runs that
nio's ``sync_forever`` would do (to-device messages, key upload, query and claim).
"""

from __future__ import annotations

import asyncio
import logging

from nio import AsyncClient, SyncResponse

from handlers.matrix.state import NEXT_BATCH, MatrixState

log = logging.getLogger(__name__)
MAX_BACKOFF = 30.0


class SyncLoop:
    def __init__(self, client: AsyncClient, state: MatrixState, poll_ms: int = 30000) -> None:
        self.client = client
        self.state = state
        self.poll_ms = poll_ms
        self.catching_up = True
        self.syncs = 0
        self._saved = ""

    async def catch_up(self, since: str | None) -> None:
        """Learn every room's state; events of this sync happened before start-up."""
        self.catching_up = True
        try:
            resp = await self.client.sync(timeout=0, since=since, full_state=True)
            if not isinstance(resp, SyncResponse) and since:
                log.warning("stored sync token refused (%s); starting fresh", resp)
                resp = await self.client.sync(timeout=0, full_state=True)
            if not isinstance(resp, SyncResponse):
                raise RuntimeError(f"first sync failed: {resp}")
            await self._after_sync()
        finally:
            self.catching_up = False

    async def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                resp = await self.client.sync(timeout=self.poll_ms)
            except (OSError, TimeoutError) as exc:  # aiohttp errors are OSErrors
                resp = None
                log.warning("sync failed: %s", exc)
            if isinstance(resp, SyncResponse):
                backoff = 1.0
                await self._after_sync()
                continue
            if resp is not None:
                log.warning("sync refused: %s", resp)
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)

    async def _after_sync(self) -> None:
        self.syncs += 1
        token = str(self.client.next_batch or "")
        if token and token != self._saved:
            await asyncio.to_thread(self.state.put, NEXT_BATCH, token)
            self._saved = token
        if self.client.olm is None:
            return
        try:
            await self.client.send_to_device_messages()
            if self.client.should_upload_keys:
                await self.client.keys_upload()
            if self.client.should_query_keys:
                await self.client.keys_query()
            if self.client.should_claim_keys:
                await self.client.keys_claim(self.client.get_users_for_key_claiming())
        except Exception:
            log.exception("end-to-end key maintenance failed; retrying after the next sync")
