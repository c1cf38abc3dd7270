"""Storage: the ``Store`` protocol and its backends. The store is the archive's source of truth."""
