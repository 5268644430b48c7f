"""The offline analysis report: what the Tensorleap dashboard would show, as one HTML file.

``imdb-leap analyze`` (``imdb.tools.cli.analyze``) runs ``run.analyze``: samples, metadata,
loss and visualizers through the integration's own binder functions, then the population
map, clusters, metadata against loss, the hardest errors, likely label issues and a
model-vs-model comparison, written by ``writer`` as ``index.html``, PNGs and ``samples.csv``.
"""
