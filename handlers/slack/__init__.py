"""Slack adapter: bolt listeners, Block Kit rendering, modals, the Slack Messenger and runner."""
