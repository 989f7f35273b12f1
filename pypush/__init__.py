"""pypush: the Jakarta Faces push client (``faces.push``) written in Python.

The package runs in the browser. :mod:`pypush.core` holds the whole faces.push
state machine without any I/O; the adapter :mod:`pypush.browser`
bind it to a real browser. Importing this package imports no browser module.
"""

__version__ = "0.1.0"
