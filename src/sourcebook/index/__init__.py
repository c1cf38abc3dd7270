"""The search index: derived from the store, rebuildable at any time."""
