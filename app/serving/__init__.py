"""The HTTP server in front of the Flask application (``csw serve``): gunicorn's master and
hooks, asyncio workers (uvicorn) that read every request whole before a thread runs the
WSGI application, so slow, stalled and broken clients cost a connection, never a thread.

``REFUSAL`` is the one thing the web layer reads from here: when the server refuses a body
(too large, too slow) it still lets the application render the answer, with the refusal
under this key of the ASGI scope (``environ["asgi.scope"]``), so every refusal has the
error envelope, the conversation id, the metrics and the log line of any other. The body
itself never reaches the application then.
"""
from __future__ import annotations

REFUSAL = "csw.refusal"
