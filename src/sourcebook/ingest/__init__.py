"""Parsers turn files into :class:`~sourcebook.model.Document` records; see ``registry``."""
