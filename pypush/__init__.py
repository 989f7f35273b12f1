"""pypush: the Jakarta Faces push client (``faces.push``) written in Python.

The package runs in the browser. :mod:`pypush.core` holds the whole faces.push
state machine without any I/O; adapters such as :mod:`pypush.pyodide_adapter`
bind it to a real browser. Importing this package imports no browser module.
"""

__version__ = "0.1.0"
