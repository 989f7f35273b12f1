"""The target pages: pypush on each interpreter and the floors it is measured against.

Every page starts with the same instrumentation script (:data:`COMMON_JS`), so
whatever it costs is paid equally by every target and cancels out of the
comparisons:

- ``handler(message, channel, event)`` is the page's onmessage callback for
  all targets (faces.push's signature; the floors pass ``null`` and the event
  too). It counts messages, stamps the first and last with
  ``performance.now()``, and, once the latency phase has opened
  ``window.echo``, sends the message's sequence number ``e`` back to the bench
  over a second plain WebSocket. The echo therefore costs the same on pypush,
  the Python floor and the JavaScript floor: it is the same JavaScript
  function. For those probes it also notes ``now - event.timeStamp``: the time
  from the MessageEvent's creation to the handler, inside the one task, which
  no network or scheduling noise reaches.
- ``opened()`` stamps the first onopen (``readyAt``, milliseconds since
  navigation start, i.e. ``performance.timeOrigin``).
- ``wasmMemories`` collects every ``WebAssembly.Memory`` instantiated on the
  page. MicroPython's Emscripten module does not export ``HEAPU8`` (reading it
  aborts), so watching instantiation is the one way that works on both
  interpreters and on pypush pages alike.
"""

import json

INTERPRETERS = ("pyodide", "micropython")
KINDS = ("bare", "py-floor", "pypush")

COMMON_JS = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>pypush bench</title><link rel="icon" href="data:,">
<script>
  window.received = 0; window.firstAt = 0; window.lastAt = 0; window.echo = null;
  window.inTask = [];
  window.handler = function (message, channel, event) {
    const now = performance.now();
    if (!received) firstAt = now;
    received++; lastAt = now;
    if (echo !== null && message !== null && typeof message === 'object' && 'e' in message) {
      inTask.push(now - event.timeStamp);
      echo.send(String(message.e));
    }
  };
  window.benchError = null;  // the first uncaught error: a run fails at once, not on a timeout
  addEventListener('error', (e) => { benchError = benchError || String(e.message); });
  addEventListener('unhandledrejection', (e) => {
    benchError = benchError || String(e.reason && e.reason.message || e.reason);
  });
  window.opened = function () {
    if (window.readyAt === undefined) window.readyAt = performance.now();
  };
  window.openEcho = (url) => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => { window.echo = ws; window.inTask = []; resolve(true); };
    ws.onerror = () => reject(new Error('echo socket failed: ' + url));
  });
  window.wasmMemories = new Set();
  (function () {
    const W = WebAssembly;
    const collect = (object) => {
      for (const value of Object.values(object || {})) {
        if (value instanceof W.Memory) wasmMemories.add(value);
        else if (value && typeof value === 'object' && !(value instanceof W.Module))
          for (const inner of Object.values(value))
            if (inner instanceof W.Memory) wasmMemories.add(inner);
      }
    };
    const watch = (original) => function (source, imports) {
      collect(imports);
      return original.apply(W, arguments).then((result) => {
        collect((result.instance || result).exports);
        return result;
      });
    };
    W.instantiate = watch(W.instantiate);
    W.instantiateStreaming = watch(W.instantiateStreaming);
  })();
  // The interpreter's own collector, then memoryNow(): shows whether JS objects a
  // page's Python still references (proxies) are merely awaiting that collector.
  window.memoryAfterPythonGc = async function () {
    let python = window.py;
    if (!python && window.pypush) {
      const info = await pypush.ready;
      python = info[info.interpreter];
    }
    if (python) python.runPython('import gc; gc.collect()');
    return memoryNow();
  };
  window.memoryNow = function () {
    gc(); gc();
    let wasm = 0;
    for (const memory of wasmMemories) wasm += memory.buffer.byteLength;
    return { heap: performance.memory.usedJSHeapSize, wasm: wasm };
  };
</script></head><body>
"""

# The bare interpreter, booted straight from the bundle's assets folder (where
# pypush's loader boots it from too, with the same HTTP caching and the same initial
# heap for MicroPython), nothing else.
BOOT = {
    "pyodide": "const { loadPyodide } = await import('%(assets)spyodide/pyodide.mjs');"
    " const py = await loadPyodide({ indexURL: '%(assets)spyodide/' }); window.py = py;",
    "micropython": "const { loadMicroPython } ="
    " await import('%(assets)smicropython/micropython.mjs');"
    " const py = await loadMicroPython({ heapsize: 1024 * 1024 }); window.py = py;",
}

# The Python floor: the simplest onmessage that parses and calls the handler.
FLOOR_IMPORT = {
    "pyodide": "from pyodide.ffi import create_proxy",
    "micropython": "from jsffi import create_proxy",
}


def js_floor(url: str) -> str:
    """The JavaScript floor: the same WebSocket, parsed and handed to the handler."""
    return COMMON_JS + (
        """<script>
  const ws = new WebSocket(%s);
  ws.onopen = opened;
  ws.onmessage = (event) => handler(JSON.parse(event.data).data, null, event);
</script>"""
        % json.dumps(url)
    )


def bare(interpreter: str, assets: str) -> str:
    """The interpreter booted from the bundle; ``readyAt`` when it is usable."""
    boot = BOOT[interpreter] % {"assets": assets}
    return COMMON_JS + (
        '<script type="module">%s window.readyAt = performance.now();</script>' % boot
    )


def python_floor(interpreter: str, assets: str, url: str) -> str:
    """A few lines of Python with ``create_proxy``: no faces.push logic at all."""
    return COMMON_JS + (
        """<script type="module">
%s
py.runPython(`
import js
%s
def onmessage(event):
    js.handler(js.JSON.parse(event.data).data, None, event)
ws = js.WebSocket.new(%s)
ws.onopen = create_proxy(lambda event: js.opened())
ws.onmessage = create_proxy(onmessage)
`);
</script>"""
        % (BOOT[interpreter] % {"assets": assets}, FLOOR_IMPORT[interpreter], json.dumps(url))
    )


def pypush(interpreter: str, url: str, heapsize: int | None = None) -> str:
    """pypush as a Faces page uses it: the loader and one ``faces.push.init``.

    ``liveAt`` (when ``pypush.ready`` resolves: interpreter booted, package
    loaded, the queued init replayed and its socket created) splits ready time
    into start-up and the WebSocket handshake. ``heapsize`` sets MicroPython's
    initial heap (``data-heapsize``) instead of the loader's default.
    """
    heap = ' data-heapsize="%d"' % heapsize if heapsize else ""
    return COMMON_JS + (
        """<script src="/pypush/faces-push.js" data-interpreter="%s"%s></script>
<script>faces.push.init('b', %s, 'bench', opened, handler, null, null, null, true);
  pypush.ready.then(() => { window.liveAt = performance.now(); });</script>"""
        % (interpreter, heap, json.dumps(url))
    )


def pages(url: str, assets: str, heapsizes: tuple[int, ...] = ()) -> dict[str, str]:
    """Every target page by name, in report order.

    ``url`` is the push channel's; ``assets`` the bundle's runtime folder
    (``PushTestServer.assets_url``), from which the floors boot. Each of
    ``heapsizes`` adds a ``pypush-micropython-heap-<KiB>k`` target.
    """
    result = {"js-floor": js_floor(url)}
    for interpreter in INTERPRETERS:
        result["bare-" + interpreter] = bare(interpreter, assets)
        result["py-floor-" + interpreter] = python_floor(interpreter, assets, url)
        result["pypush-" + interpreter] = pypush(interpreter, url)
    for heapsize in heapsizes:
        result["pypush-micropython-heap-%dk" % (heapsize // 1024)] = pypush(
            "micropython", url, heapsize
        )
    return result


def connects(name: str) -> bool:
    """Whether the target opens the push socket (the bare boots do not)."""
    return not name.startswith("bare-")
