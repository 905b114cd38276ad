"""Matrix backend (matrix-nio): sync loop, commands, DMs, threads, edits, files, E2EE.

Entry points: :func:`handlers.matrix.runner.run_matrix` (blocking) and
:class:`handlers.matrix.bot.MatrixBot` (async ``start()``/``stop()``).
"""
