"""Search: the query language, ranking, facets and snippets."""
