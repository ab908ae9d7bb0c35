"""The sweep tests use the search tests' PostgreSQL server (a sweep into a given storage)."""

from tests.search.conftest import postgres_url

__all__ = ["postgres_url"]
