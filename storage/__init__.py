"""Persistence: SQLAlchemy models, repositories, unit of work and Alembic migrations."""

import storage.models_alumni
import storage.models_answers
import storage.models_feedback
import storage.models_meetings
import storage.models_networking
import storage.models_polls
import storage.models_reminders
import storage.models_web  # noqa: F401
