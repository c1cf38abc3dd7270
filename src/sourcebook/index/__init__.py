"""The search index: derived from the store, rebuildable at any time."""

#: The vector index's manifest file (``index/vectors.py``). Named here, without NumPy, so that
#: code asking whether an archive has vectors does not import NumPy (a fifth of a cold start).
VECTORS_MANIFEST = "manifest.json"
