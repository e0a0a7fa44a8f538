"""Pytest plugin (loaded with ``-p``, before Django starts): test-only settings.

The suite runs the production settings module. Only what a test run must have
is given a default here; ``DATABASE_URL`` and ``REDIS_URL`` come from the
caller (SQLite and in-process tasks when absent, as for a newcomer).
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-key-not-used-anywhere-else-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# The test client speaks plain HTTP; HTTPS redirection is tested on its own.
os.environ.setdefault("CSF_SSL_REDIRECT", "0")
os.environ.setdefault("CSF_LOG_LEVEL", "WARNING")
# Static files are collected once per run, as in production (hashed names).
os.environ.setdefault(
    "CSF_STATIC_ROOT", os.path.join(tempfile.gettempdir(), f"csf-test-static-{os.getpid()}")
)
os.environ.setdefault("CSF_MEDIA_ROOT", tempfile.mkdtemp(prefix="csf-test-media-"))
