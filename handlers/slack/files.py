"""Files organisers upload in Slack, fetched for a command that needs one (CSV import).

A message with a file (``file_share``) carries the file; a slash command cannot, so it takes
the caller's newest upload in the same channel from the last ``UPLOAD_WINDOW`` (``files.list``
by channel and user: Slack keeps the state, every instance finds the same file). The download
uses the bot token against ``url_private_download`` and stops after the size limit; the
token is only sent to Slack's own file host (or the configured API double's host).
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import Attachment, AttachmentSource
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.import_file import MAX_IMPORT_BYTES, UPLOAD_WINDOW, too_large

log = logging.getLogger(__name__)

SLACK_FILE_HOSTS = ("files.slack.com",)


def unavailable() -> UserFacingError:
    return UserFacingError(
        N_("Die hochgeladene Datei kann ich nicht abrufen. Bitte laden Sie sie erneut hoch.")
    )


class SlackFiles:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        api_host = urlsplit(client.base_url).hostname or ""
        self._hosts = (*SLACK_FILE_HOSTS, api_host)

    def sent_with(self, event: Mapping[str, Any]) -> AttachmentSource | None:
        """The first file of a message event, fetched when asked for."""
        files = [f for f in event.get("files") or [] if isinstance(f, dict) and f.get("id")]
        if not files:
            return None
        file_id = str(files[0]["id"])
        return lambda: self.download(file_id)

    def last_upload(self, user_id: str, channel_id: str | None) -> AttachmentSource:
        """The caller's newest file in the channel within the upload window."""

        def fetch() -> Attachment | None:
            if not channel_id:
                return None
            since = int(time.time() - UPLOAD_WINDOW.total_seconds())
            try:
                found = self.client.files_list(
                    channel=channel_id, user=user_id, ts_from=str(since), count=20
                )["files"]
            except SlackApiError as exc:
                log.info("files.list failed: %s", exc.response["error"])
                raise unavailable() from None
            newest = max(found or [], key=lambda f: int(f.get("created") or 0), default=None)
            return self.download(str(newest["id"])) if newest else None

        return fetch

    def download(self, file_id: str) -> Attachment:
        try:
            info = self.client.files_info(file=file_id)["file"]
        except SlackApiError as exc:
            log.info("files.info %s failed: %s", file_id, exc.response["error"])
            raise unavailable() from None
        if int(info.get("size") or 0) > MAX_IMPORT_BYTES:
            raise too_large()
        url = str(info.get("url_private_download") or info.get("url_private") or "")
        if urlsplit(url).hostname not in self._hosts:
            log.warning("file %s: download host not Slack's, not fetched", file_id)
            raise unavailable()
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {self.client.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                content = response.read(MAX_IMPORT_BYTES + 1)
        except (urllib.error.URLError, OSError) as exc:
            log.info("file %s download failed: %s", file_id, type(exc).__name__)
            raise unavailable() from None
        log.debug("file %s fetched, %d bytes", file_id, len(content))
        return Attachment(str(info.get("name") or "datei"), content)
