"""Persistence: SQLAlchemy models, repositories, unit of work and Alembic migrations."""
import storage.models_reminders  # noqa: F401
