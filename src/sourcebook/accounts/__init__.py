"""Accounts: password hashing, session and API-token secrets, signed cookies, the sign-in rate
limit and the audit log. The use cases that join them live in ``services/accounts.py``; the
threat model is in ``docs/security.md``."""
