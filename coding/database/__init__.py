"""Persistence: the tables, engine creation and migrations, and the queries.

Nothing outside this package and :mod:`coding.service` touches a Session.
"""
