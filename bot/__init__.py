"""Platform-neutral domain and services of stadtlabor-bot."""
