"""``pypush_glue``: the JavaScript module (``web/pypush-glue.js``) the browser side calls.

The loader registers it with the interpreter it boots (``registerJsModule``); on a
PyScript page the bundle's configuration lists it under ``js_modules``. Either way
it is a real JavaScript file, so pages under a strict Content-Security-Policy
(no ``'unsafe-eval'``) run pypush.
"""

try:
    import pypush_glue as glue  # registered by faces-push.js
except ImportError:
    try:
        from pyscript.js_modules import pypush_glue as glue  # PyScript's js_modules
    except ImportError as exc:
        raise ImportError(
            "pypush needs its JavaScript module pypush_glue: load pypush with faces-push.js, "
            "or on a PyScript page use the bundle's pyscript-py.json / pyscript-mpy.json "
            "(or list pypush-glue.js under js_modules.main as pypush_glue)"
        ) from exc

__all__ = ["glue"]
