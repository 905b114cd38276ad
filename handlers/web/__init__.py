"""The bot's web pages (issue 17): routes on the shared aiohttp server, Jinja2 templates.

See docs/web.md for the choices (aiohttp.web + Jinja2, login links, sessions, security).
"""
