"""Platform adapters (console, Slack, Matrix): they only translate to and from the services."""
