"""Build tools, apart from the server: the static bundle writer (``serve.py bundle DIR``).

The server serves a bundle that this step wrote (``serve.py`` writes one at start-up, once
for all its workers; :class:`pypush_server.testing.PushTestServer` writes its own)."""
