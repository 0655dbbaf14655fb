"""The rows family: a run as rows of a SQL database (SQLite, PostgreSQL, MariaDB/MySQL).

:mod:`.schema` holds the tables, :mod:`.engine` opening and error mapping, :mod:`.store` the
statements, :mod:`.metrics` the bulk metric inserts, :mod:`.writer` the observer and
:mod:`.reader` the reader. Everything here needs SQLAlchemy (the ``sql`` extra).
"""
