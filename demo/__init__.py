"""The fictional demo city and the city-scale benchmark data (DESIGN §6), and the benchmarks.

A tool of its own beside the portal: it builds databases for demonstrations and
benchmarks through the domain's own models and definitions, and no domain app
imports anything from it. ``seed_demo`` builds the city, ``seed_demo --scale N``
adds city-scale data, ``bench`` and ``bench_pdf`` measure the pages and the
meeting pack. Tables that are pure data live in ``demo/data/``.
"""
