"""Jobs: ingest, entities, embeddings, reindex as plain functions of (archive, arguments).

``definitions.py`` holds the jobs; ``queue.py`` the queue of organisation mode (procrastinate on
the archive's PostgreSQL database); ``worker.py`` what ``sourcebook worker`` runs; ``vectors.py``
where queued embedding jobs put their vectors. The embedded default has no queue: its commands
call the same functions in-process. See docs/architecture.md ("Jobs").
"""
