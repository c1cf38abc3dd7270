"""The JSON API under ``/api``: routes (``routes.py``) and response models (``schemas.py``).

Importing this package loads nothing: the CLI imports :mod:`sourcebook.api.schemas` for the
search result's JSON shape without pulling in FastAPI.
"""
