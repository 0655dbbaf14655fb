"""The object-store cases (``tests/object_store_cases.py``) on moto's S3 server."""

from tests.object_store_cases import *  # noqa: F403
