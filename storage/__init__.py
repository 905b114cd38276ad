"""Persistence: SQLAlchemy models, repositories, unit of work and Alembic migrations."""

import storage.models_meetings  # noqa: F401
import storage.models_reminders  # noqa: F401
import storage.models_polls  # noqa: F401
import storage.models_feedback  # noqa: F401
