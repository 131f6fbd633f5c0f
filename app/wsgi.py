"""WSGI entry point for gunicorn: ``gunicorn app.wsgi:app``.

``gc.freeze()`` once the app is built: everything loaded at start-up (schemas, rules, the
risk model, SQLAlchemy's mappers) lives as long as the worker, and without it each full
collection walks it all again. Measured in process on a 999-item declaration: full collections
of up to 170 ms in the middle of a request before, about 2 ms after (``bench/RESULTS.md``).
"""
import gc

from app import create_app

app = create_app()
gc.freeze()
