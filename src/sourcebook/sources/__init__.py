"""Sources harvested on a schedule: feeds, OAI-PMH repositories, web pages and sitemaps.

``model.py`` holds the registry's records (a source and its state, a kept original); one module
per kind turns what a fetch returns into documents (``feed.py``, ``oai_harvest.py``,
``pages.py``, ``sitemap.py``); ``services/sources.py`` runs them. See docs/sources.md.
"""
