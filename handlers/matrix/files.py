"""Files organisers upload in Matrix (``m.file``), fetched for a command that needs one.

``!stadtlabor import teilnehmende`` takes the sender's newest ``m.file`` in the same room from
the last ``UPLOAD_WINDOW`` (read back from the room's history, so nothing is kept in the bot),
downloads it through the authenticated media API with the bot's token, stops after the size
limit, and decrypts it when the room is encrypted. The dispatcher runs in a worker thread; the
fetch runs on the bot's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from nio import AsyncClient, MessageDirection, RoomMessagesResponse
from nio.crypto.attachments import decrypt_attachment

from bot.context import Attachment, AttachmentSource
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.import_file import MAX_IMPORT_BYTES, UPLOAD_WINDOW, too_large
from handlers.matrix.events import UploadedFile, uploaded_file

log = logging.getLogger(__name__)

HISTORY_LIMIT = 50  # events read back to find the upload
FETCH_TIMEOUT = 30.0


def unavailable() -> UserFacingError:
    return UserFacingError(
        N_("Die hochgeladene Datei kann ich nicht abrufen. Bitte laden Sie sie erneut hoch.")
    )


class MatrixFiles:
    def __init__(self, client: AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    def last_upload(self, room_id: str, sender: str) -> AttachmentSource:
        """Called from the dispatcher's thread: runs the fetch on the bot's loop."""

        def fetch() -> Attachment | None:
            future = asyncio.run_coroutine_threadsafe(self.fetch(room_id, sender), self.loop)
            return future.result(FETCH_TIMEOUT)

        return fetch

    async def fetch(self, room_id: str, sender: str) -> Attachment | None:
        since_ms = int((time.time() - UPLOAD_WINDOW.total_seconds()) * 1000)
        resp = await self.client.room_messages(
            room_id, direction=MessageDirection.back, limit=HISTORY_LIMIT
        )
        if not isinstance(resp, RoomMessagesResponse):
            log.info("room history of %s not readable: %s", room_id, resp)
            raise unavailable()
        for event in resp.chunk:  # newest first
            found = uploaded_file(event.source, sender=sender, since_ms=since_ms)
            if found is not None:
                return await self.download(found)
        return None

    async def download(self, upload: UploadedFile) -> Attachment:
        if upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            raise too_large()
        parts = urlsplit(upload.mxc)
        url = (
            f"{self.client.homeserver}/_matrix/client/v1/media/download/"
            f"{quote(parts.netloc)}/{quote(parts.path.lstrip('/'))}"
        )
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(url, headers=headers) as response,
            ):
                if response.status != 200:
                    log.info("media %s: HTTP %d", upload.mxc, response.status)
                    raise unavailable()
                chunks: list[bytes] = []
                async for chunk in response.content.iter_chunked(65536):
                    chunks.append(chunk)
                    if sum(map(len, chunks)) > MAX_IMPORT_BYTES:  # stop reading: too large
                        raise too_large()
                content = b"".join(chunks)
        except (aiohttp.ClientError, TimeoutError):
            log.info("media %s: download failed", upload.mxc)
            raise unavailable() from None
        if upload.encryption is not None:
            content = _decrypt(content, upload.encryption)
        log.debug("media %s fetched, %d bytes", upload.mxc, len(content))
        return Attachment(upload.filename, content)


def _decrypt(ciphertext: bytes, file: dict[str, Any]) -> bytes:
    try:
        plain: bytes = decrypt_attachment(
            ciphertext, file["key"]["k"], file["hashes"]["sha256"], file["iv"]
        )
    except Exception:  # a wrong key or hash: the upload is broken, not our bug
        log.info("encrypted attachment could not be decrypted")
        raise unavailable() from None
    return plain
