"""Reminders people ask for (service, recurrence rules) and the engine that runs due work."""
