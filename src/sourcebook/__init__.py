"""Sourcebook: an archive and search engine for country-of-origin information and news.

Importing the package loads nothing heavy: parsers, the index and models load on first use.
"""

__version__ = "0.1.0"
