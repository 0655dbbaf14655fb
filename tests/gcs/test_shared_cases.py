"""The object-store cases (``tests/object_store_cases.py``) on fake-gcs-server."""

from tests.object_store_cases import *  # noqa: F403
