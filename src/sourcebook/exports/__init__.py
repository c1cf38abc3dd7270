"""Exports a reader takes away: a result list or a folder in a reference manager's format
(:mod:`sourcebook.exports.lists`), and a folder's quotes as a research bundle in Markdown, DOCX
or PDF (:mod:`sourcebook.exports.bundle`). docs/workspace.md describes both."""

from sourcebook.exports.bundle import BUNDLE_FORMATS, BUNDLE_STYLES, BundleQuote, render_bundle
from sourcebook.exports.lists import LIST_FORMATS, Export, export_documents

__all__ = [
    "BUNDLE_FORMATS",
    "BUNDLE_STYLES",
    "LIST_FORMATS",
    "BundleQuote",
    "Export",
    "export_documents",
    "render_bundle",
]
