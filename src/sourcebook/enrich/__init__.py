"""Enrichers add what Sourcebook derives (language, countries, ...); each loads its model lazily."""
