"""Layer 1, the contract: configuration, the model-file contract, label and split names.

Every other layer imports from here and nothing here imports another layer, so a setting,
a file suffix or a layer name has exactly one definition.
"""
