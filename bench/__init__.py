"""``make bench``: webhook intake against a bare Django view, and leads per second per worker.

Run with ``python -m bench`` (see ``bench/__main__.py``). Every figure comes from real processes
on loopback: gunicorn serving ``bharatcrm.wsgi``, PostgreSQL, Redis and a Celery worker.
"""
