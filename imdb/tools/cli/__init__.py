"""``imdb-leap``: one command line for data, training, evaluation, export, analysis and benchmarks.

``main`` builds the parser from the sub-command modules (``data``, ``models``, ``bench``,
``analyze``); each registers its own sub-commands with the shared pieces in ``common`` and
never imports ``main`` back.
"""
