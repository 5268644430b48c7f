"""Running the behavioural probes (``imdb.probes``) against trained models: pass rates per
capability and model with intervals, verdict sentences, and heatmaps of the failing cases.

``run`` computes (``imdb-leap probe``, the report's Behaviour section and the benchmark use it);
``write`` writes the stand-alone probe report.
"""
