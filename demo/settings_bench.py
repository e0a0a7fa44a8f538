"""Production settings, plus the baseline view ``make bench`` compares every page with."""

from csf_portal.settings import *  # noqa: F403  (the production settings, unchanged)

ROOT_URLCONF = "demo.bench_urls"
