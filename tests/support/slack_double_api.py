"""Web API method implementations (workspace state) behind :class:`SlackDouble`.

Not thread-safe on its own: :class:`~tests.support.slack_double.SlackDouble` calls
the methods in :attr:`SlackApiState.handlers` while holding its lock.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .slack_double_blocks import MAX_MESSAGE_TEXT, blocks_problem, view_problem
from .slack_double_models import (
    _CHANNEL_RE,
    _USER_RE,
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    TEAM_NAME,
    ApiError,
    PostedMessage,
    SlackUser,
    UploadedFile,
)

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"
MANIFEST_SCOPES = tuple(
    line.split("#")[0].strip().removeprefix("- ").strip()
    for line in MANIFEST.read_text(encoding="utf-8")
    .split("bot:", 1)[1]
    .split("settings:")[0]
    .splitlines()
    if line.strip().startswith("- ")
)


def _json_arg(args: dict[str, Any], name: str) -> Any:
    """Form-encoded requests carry JSON-valued arguments as strings; decode them."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            code = "invalid_blocks_format" if name == "blocks" else "invalid_arguments"
            raise ApiError(code, f"[ERROR] {name} is not valid JSON") from None
    return value


def _require(args: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if args.get(n) in (None, "")]
    if missing:
        raise ApiError(
            "invalid_arguments", *(f"[ERROR] missing required field: {n}" for n in missing)
        )


class SlackApiState:
    """Workspace state and the implemented Web API methods."""

    def __init__(self, *, public_url: Callable[[], str], strict_triggers: bool = True) -> None:
        self._public_url = public_url
        self.strict_triggers = strict_triggers
        self.users: dict[str, SlackUser] = {}
        # The bot token's scopes (slack/manifest.yml); a method needing another one fails.
        self.scopes: set[str] = set(MANIFEST_SCOPES)
        self.channels: dict[str, dict[str, Any]] = {}
        self.reset()
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self.auth_test,
            "conversations.open": self.conversations_open,
            "conversations.info": self.conversations_info,
            "users.info": self.users_info,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "files.getUploadURLExternal": self.files_get_upload_url,
            "files.completeUploadExternal": self.files_complete_upload,
            "files.info": self.files_info,
            "files.list": self.files_list,
            "files.delete": self.files_delete,
        }

    def reset(self) -> None:
        """Forget messages, views, DMs and files (the user directory stays)."""
        self.messages: dict[tuple[str, str], PostedMessage] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.dms: dict[str, str] = {}
        self.group_dms: dict[str, list[str]] = {}  # group DM channel -> members (bot included)
        self.files: dict[str, UploadedFile] = {}
        self.used_triggers: set[str] = set()
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self.channels = {k: v for k, v in self.channels.items() if not v.get("is_im")}

    # -- helpers -----------------------------------------------------------------
    def next_ts(self) -> str:
        now_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = now_us
        return f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def dm_channel_for(self, user_id: str) -> str:
        if user_id not in self.dms:
            channel = "D" + user_id[1:]
            self.dms[user_id] = channel
            self.channels[channel] = {
                "id": channel,
                "is_im": True,
                "is_channel": False,
                "is_group": False,
                "is_private": True,
                "user": user_id,
                "created": int(time.time()),
            }
        return self.dms[user_id]

    def _channel(self, args: dict[str, Any]) -> str:
        channel = str(args["channel"])
        if not _CHANNEL_RE.match(channel):
            raise ApiError("channel_not_found")
        return self.dm_channel_for(channel) if channel.startswith("U") else channel

    def _content(self, args: dict[str, Any], *, allow_attachments: bool = True) -> dict[str, Any]:
        """Validate text/blocks/attachments of a message; return the decoded parts."""
        text, blocks = args.get("text"), _json_arg(args, "blocks")
        attachments = _json_arg(args, "attachments") if allow_attachments else None
        if text in (None, "") and not blocks and not attachments:
            raise ApiError("invalid_arguments", "[ERROR] one of text, blocks, attachments required")
        if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
            raise ApiError("msg_too_long")
        if blocks is not None and (problem := blocks_problem(blocks)):
            raise ApiError("invalid_blocks", f"[ERROR] {problem}")
        return {
            "text": "" if text is None else str(text),
            "blocks": blocks,
            "attachments": attachments,
        }

    def _message(self, args: dict[str, Any]) -> PostedMessage:
        _require(args, "channel", "ts")
        message = self.messages.get((self._channel(args), str(args["ts"])))
        if message is None or message.deleted:
            raise ApiError("message_not_found")
        return message

    def _view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = _json_arg(args, "view")
        if (problem := view_problem(view)) is not None:
            raise ApiError(problem[0], f"[ERROR] {problem[1]}")
        assert isinstance(view, dict)
        return view

    def _use_trigger(self, trigger_id: str) -> None:
        if self.strict_triggers and trigger_id in self.used_triggers:
            raise ApiError("exchanged_trigger_id")
        self.used_triggers.add(trigger_id)

    def _store_view(
        self,
        view: dict[str, Any],
        *,
        root: str | None,
        previous: str | None,
        view_id: str | None = None,
    ) -> dict[str, Any]:
        view_id = view_id or self._new_id("V")
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "state": {"values": {}},
            "hash": hashlib.sha1(json.dumps(view).encode()).hexdigest()[:16],
            "root_view_id": root or view_id,
            "previous_view_id": previous,
        }
        self.views[view_id] = stored
        return stored

    # -- methods -----------------------------------------------------------------
    def auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://stadtlabor-test.slack.com/",
            "team": TEAM_NAME,
            "user": "stadtlabor",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"channel": {"id": self._channel(args)}, "no_op": True, "already_open": True}
        _require(args, "users")
        users = [u.strip() for u in str(args["users"]).split(",") if u.strip()]
        if not users or not all(_USER_RE.match(u) for u in users):
            raise ApiError("user_not_found")
        if len(users) > 1:
            return self._open_mpim(users)
        existed = users[0] in self.dms
        result: dict[str, Any] = {"channel": {"id": self.dm_channel_for(users[0])}}
        if existed:
            result.update(no_op=True, already_open=True)
        return result

    def _open_mpim(self, users: list[str]) -> dict[str, Any]:
        """A group DM as Slack opens it (scope ``mpim:write``): 2 to 8 known users, the
        same group DM for the same set of users; its members are recorded."""
        if "mpim:write" not in self.scopes:
            raise ApiError("missing_scope", "[ERROR] needed: mpim:write")
        if len(users) > 8:
            raise ApiError("too_many_users")
        if self.users and any(u not in self.users for u in users):
            raise ApiError("user_not_found")
        members = sorted({*users, BOT_USER_ID})
        channel = "G" + hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:10].upper()
        self.channels.setdefault(
            channel, {"id": channel, "is_mpim": True, "is_private": True, "members": members}
        )
        existed = channel in self.group_dms
        self.group_dms[channel] = members
        result: dict[str, Any] = {"channel": {"id": channel}}
        if existed:
            result.update(no_op=True, already_open=True)
        return result

    def conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "channel")
        info = self.channels.get(str(args["channel"]))
        if info is None:
            raise ApiError("channel_not_found")
        return {"channel": dict(info)}

    def users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "user")
        user = self.users.get(str(args["user"]))
        if user is None:
            raise ApiError("user_not_found")
        include_locale = str(args.get("include_locale", "")).lower() in ("1", "true")
        return {"user": user.to_api(include_locale=include_locale)}

    def chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "channel")
        channel, content = self._channel(args), self._content(args)
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        message = PostedMessage(
            channel=channel,
            ts=self.next_ts(),
            thread_ts=thread_ts,
            metadata=_json_arg(args, "metadata"),
            **content,
        )
        self.messages[(channel, message.ts)] = message
        return {"channel": channel, "ts": message.ts, "message": message.to_api()}

    def chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._message(args)
        content = self._content(args)
        message.text, message.edits = content["text"], message.edits + 1
        if content["blocks"] is not None or "blocks" in args:
            message.blocks = content["blocks"] or None
        if content["attachments"] is not None:
            message.attachments = content["attachments"]
        api = message.to_api()
        return {"channel": message.channel, "ts": message.ts, "text": message.text, "message": api}

    def chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._message(args)
        message.deleted = True
        return {"channel": message.channel, "ts": message.ts}

    def chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "channel", "user")
        channel, content = self._channel(args), self._content(args)
        ts = self.next_ts()
        self.ephemerals.append({"channel": channel, "user": str(args["user"]), "ts": ts, **content})
        return {"message_ts": ts}

    def views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "trigger_id", "view")
        view = self._view(args)
        self._use_trigger(str(args["trigger_id"]))
        return {"view": self._store_view(view, root=None, previous=None)}

    def views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "trigger_id", "view")
        view = self._view(args)
        self._use_trigger(str(args["trigger_id"]))
        return {"view": self._store_view(view, root=None, previous=None)}

    def views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "view")
        if not args.get("view_id") and not args.get("external_id"):
            raise ApiError("invalid_arguments", "[ERROR] view_id or external_id required")
        view = self._view(args)
        current = self.views.get(str(args.get("view_id", "")))
        if current is None and args.get("external_id"):
            matches = [v for v in self.views.values() if v["external_id"] == args["external_id"]]
            current = matches[0] if matches else None
        if current is None:
            raise ApiError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        stored = self._store_view(
            view,
            root=current["root_view_id"],
            previous=current["previous_view_id"],
            view_id=current["id"],
        )
        return {"view": stored}

    def views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "user_id", "view")
        view = self._view(args)
        if view["type"] != "home":
            raise ApiError("invalid_arguments", "[ERROR] views.publish needs a home view")
        user_id = str(args["user_id"])
        previous = self.home_views.get(user_id)
        stored = self._store_view(
            view, root=None, previous=None, view_id=previous["id"] if previous else None
        )
        self.home_views[user_id] = stored
        return {"view": stored}

    def files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "filename", "length")
        try:
            length = int(args["length"])
        except ValueError:
            raise ApiError("invalid_arguments", "[ERROR] length must be an integer") from None
        file_id = self._new_id("F")
        self.files[file_id] = UploadedFile(
            id=file_id, filename=str(args["filename"]), length=length
        )
        return {"upload_url": f"{self._public_url()}upload/v1/{file_id}", "file_id": file_id}

    def receive_upload(self, file_id: str, content: bytes) -> bool:
        upload = self.files.get(file_id)
        if upload is None or upload.completed:
            return False
        upload.content = content
        return True

    def files_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        """The file goes, and so does the message that shared it."""
        _require(args, "file")
        if self.files.pop(str(args["file"]), None) is None:
            raise ApiError("file_not_found")
        for message in self.messages.values():
            if any(f.get("id") == args["file"] for f in message.files):
                message.deleted = True
        return {}

    def files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "files")
        items = _json_arg(args, "files")
        if not isinstance(items, list) or not items:
            raise ApiError("invalid_arguments", "[ERROR] files must be a non-empty list")
        uploads: list[UploadedFile] = []
        for item in items:
            upload = self.files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if upload is None or upload.content is None or upload.completed:
                raise ApiError("file_not_found")
            if len(upload.content) != upload.length:
                raise ApiError("file_upload_size_mismatch")
            uploads.append(upload)
        channel = str(args.get("channel_id") or args.get("channels") or "") or None
        if channel is not None:
            channel = self._channel({"channel": channel.split(",")[0]})
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        infos = []
        for upload, item in zip(uploads, items, strict=True):
            upload.title, upload.completed = item.get("title") or upload.filename, True
            upload.channel, upload.thread_ts = channel, thread_ts
            upload.initial_comment = args.get("initial_comment")
            infos.append(
                {
                    "id": upload.id,
                    "name": upload.filename,
                    "title": upload.title,
                    "size": upload.length,
                    "user": BOT_USER_ID,
                    "created": int(time.time()),
                    "url_private": f"{self._public_url()}files/{upload.id}/{upload.filename}",
                }
            )
        if channel is not None:
            message = PostedMessage(
                channel=channel,
                ts=self.next_ts(),
                thread_ts=thread_ts,
                text=str(args.get("initial_comment") or ""),
                files=infos,
            )
            self.messages[(channel, message.ts)] = message
        return {"files": infos}

    # -- files people upload (read by the bot with files.info / files.list + download) ---
    def user_upload(self, user: str, channel: str, filename: str, content: bytes) -> dict[str, Any]:
        upload = UploadedFile(
            id=self._new_id("F"),
            filename=filename,
            length=len(content),
            content=content,
            channel=channel,
            completed=True,
            user=user,
            created=int(time.time()),
        )
        self.files[upload.id] = upload
        return self._file_info(upload)

    def _file_info(self, upload: UploadedFile) -> dict[str, Any]:
        base = f"{self._public_url()}files/"
        return {
            "id": upload.id,
            "name": upload.filename,
            "title": upload.title or upload.filename,
            "size": upload.length,
            "user": upload.user or BOT_USER_ID,
            "created": upload.created,
            "channels": [upload.channel] if upload.channel else [],
            "url_private": f"{base}{upload.id}/{upload.filename}",
            "url_private_download": f"{base}download/{upload.id}/{upload.filename}",
        }

    def files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        _require(args, "file")
        upload = self.files.get(str(args["file"]))
        if upload is None or not upload.completed:
            raise ApiError("file_not_found")
        return {"file": self._file_info(upload)}

    def files_list(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, user = args.get("channel"), args.get("user")
        since = int(args.get("ts_from") or 0)
        found = [
            f
            for f in self.files.values()
            if f.completed
            and (not channel or f.channel == channel)
            and (not user or (f.user or BOT_USER_ID) == user)
            and f.created >= since
        ]
        found.sort(key=lambda f: f.created, reverse=True)
        count = int(args.get("count") or 100)
        return {"files": [self._file_info(f) for f in found[:count]]}

    def file_content(self, path: str) -> bytes | None:
        """The bytes behind ``url_private``/``url_private_download`` (path after /files/)."""
        parts = path.split("/")
        file_id = parts[1] if parts[0] == "download" and len(parts) > 1 else parts[0]
        upload = self.files.get(file_id)
        return upload.content if upload is not None and upload.completed else None
