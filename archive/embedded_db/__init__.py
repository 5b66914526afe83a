"""A Django database backend that runs on an embedded PostgreSQL server.

Used when DATABASE_URL is unset, so a laptop needs no database installed. The server
starts on the first connection (not on import), is shared by every process that uses
the same data folder, and stops when the last of them exits.
"""
