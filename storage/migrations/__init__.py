"""Alembic migration scripts; env.py is run by Alembic, never imported."""
