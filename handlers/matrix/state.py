"""Small persisted Matrix state in the bot_state table (sync token, device, DM rooms)."""

from __future__ import annotations

from collections.abc import Callable

from storage.uow import UnitOfWork

NEXT_BATCH = "matrix:next_batch"
USER_ID = "matrix:user_id"
DEVICE_ID = "matrix:device_id"
ACCESS_TOKEN = "matrix:access_token"


def dm_key(user_id: str) -> str:
    return f"matrix:dm:{user_id}"


class MatrixState:
    """Synchronous get/put; the async code calls it through ``asyncio.to_thread``."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow_factory = uow_factory

    def get(self, key: str) -> str | None:
        with self._uow_factory() as uow:
            return uow.state.get(key)

    def put(self, key: str, value: str) -> None:
        self.put_many({key: value})

    def put_many(self, values: dict[str, str]) -> None:
        with self._uow_factory() as uow:
            for key, value in values.items():
                uow.state.put(key, value)
            uow.commit()

    def delete(self, key: str) -> None:
        with self._uow_factory() as uow:
            uow.state.delete(key)
            uow.commit()

    def session_for(self, user_id: str) -> tuple[str | None, str | None, str | None]:
        """``(device_id, access_token, next_batch)`` stored for this account (else Nones)."""
        with self._uow_factory() as uow:
            if uow.state.get(USER_ID) != user_id:
                return None, None, None
            return uow.state.get(DEVICE_ID), uow.state.get(ACCESS_TOKEN), uow.state.get(NEXT_BATCH)

    def save_session(self, user_id: str, device_id: str, access_token: str) -> None:
        with self._uow_factory() as uow:
            if uow.state.get(USER_ID) != user_id:
                uow.state.put(NEXT_BATCH, "")  # another account: its sync token is worthless
            uow.state.put(USER_ID, user_id)
            uow.state.put(DEVICE_ID, device_id)
            uow.state.put(ACCESS_TOKEN, access_token)
            uow.commit()
