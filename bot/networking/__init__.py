"""Networking between meetings: profiles with a Vorhaben, "wer kennt sich aus", introductions.

``commands`` registers the text commands; ``topics``, ``places`` and ``ranking`` are pure;
``profiles`` and ``introductions`` are services on the unit of work; ``privacy`` plugs the
stored data into ``meine-daten`` and ``vergessen``.
"""
