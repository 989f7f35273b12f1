/*
 * faces-push.js: the loader of pypush, the Jakarta Faces push client in Python.
 *
 * It defines window.faces.push synchronously (S1, S2, S4), queues calls until
 * Python is live, boots the interpreter from files next to this script (never
 * a CDN), loads the pypush package, replays the queue in order and resolves
 * window.pypush.ready (S5). All faces.push logic lives in Python.
 */
(function () {
  "use strict";

  // S4, S11: faces.push is pypush's, and everything else of window.faces the Faces
  // implementation's, in whichever order the page includes this loader and the
  // implementation's own faces.js (a Faces page does not choose: Mojarra writes the
  // head's own scripts before its component resources). Both replace or skip what they
  // find: Mojarra 4 sets window.faces = {} unless it finds its own specversion there,
  // MyFaces 4 sets up nothing when window.faces exists. So window.faces is an accessor:
  // to the implementation's script while it runs it is undefined until that script sets
  // it, to everyone else it is the implementation's object, or this loader's own until
  // one comes; and whatever object it holds, its push is this loader's.
  var IMPLEMENTATION_SCRIPT =
    /(?:^|\/)(?:faces|jsf)(?:-uncompressed|-development)?\.js(?:\.[A-Za-z]+)?$/;
  function implementationRunning() {
    var current = document.currentScript;
    if (!current || !current.src) return false;
    try {
      // Without path parameters: a container that does not yet know the session's cookie
      // rewrites each resource URL as .../faces.js.xhtml;jsessionid=...?ln=jakarta.faces.
      return IMPLEMENTATION_SCRIPT.test(new URL(current.src).pathname.replace(/;[^/]*/g, ""));
    } catch (e) { return false; }
  }
  function installPush(push) {
    function pushOf() { return push; }
    function adopt(faces) {
      if (!faces || (typeof faces !== "object" && typeof faces !== "function")) return;
      var own = Object.getOwnPropertyDescriptor(faces, "push");
      if (own && own.get === pushOf) return;
      try {
        // An implementation's own push (Mojarra assigns it after window.faces) is kept out.
        Object.defineProperty(faces, "push", {
          configurable: true, enumerable: true, get: pushOf, set: function () {} });
      } catch (e) {
        faces.push = push;  // a frozen or odd object: as far as it lets us
      }
    }
    var held = Object.getOwnPropertyDescriptor(window, "faces");
    if (held && held.get && held.get.pypush) {  // S6: a second copy of the loader
      adopt(window.faces);
      if (window.jsf) window.jsf.push = push;
      return;
    }
    var implementation = window.faces || null;  // faces.js ran first (S4)
    var own = implementation ? null : {};
    function current() {
      if (implementation) return implementation;
      return implementationRunning() ? undefined : own;
    }
    current.pypush = true;
    adopt(implementation || own);
    try {
      Object.defineProperty(window, "faces", {
        configurable: true,
        enumerable: true,
        get: current,
        set: function (faces) {
          if (faces === own || faces === implementation) return;
          if (own && faces && typeof faces === "object") {
            // What the page put on this loader's object before faces.js came.
            Object.keys(own).forEach(function (key) { if (!(key in faces)) faces[key] = own[key]; });
          }
          implementation = faces;
          adopt(faces);
        }
      });
    } catch (e) {
      // window.faces declared with `var` by an older script: not configurable.
      window.faces = implementation || own;
      window.faces.push = push;
    }
    if (window.jsf) window.jsf.push = push;
    // MyFaces whose faces.js was not recognised as it ran (another file name) finds this
    // loader's window.faces and sets up nothing: faces.ajax would be missing. Say so.
    document.addEventListener("DOMContentLoaded", function () {
      if (!implementation && window.myfaces && !own.ajax) {
        console.error("faces.push: MyFaces' faces.js ran after faces-push.js from a URL " +
          "pypush does not recognise, and left faces.ajax unset; include faces-push.js after " +
          "faces.js (in a Faces page: <h:outputScript library=\"pypush\" " +
          "name=\"faces-push.js\" target=\"body\"/>)");
      }
    });
  }

  // Pages include scripts twice (a template and a component each add it). A second
  // run keeps the first loader's faces.push, queue, interpreter and ready: it only
  // puts the first faces.push back in place, in case something replaced it meanwhile.
  var first = window.pypush;
  if (first && first.push && first.ready && typeof first.attach === "function") {
    installPush(first.push);
    return;
  }

  var script = document.currentScript;
  // S7: under a Content-Security-Policy with nonces, what this adds carries this tag's.
  var nonce = (script && script.nonce) || "";
  var base = new URL("./", script ? script.src : document.baseURI).href;
  var queue = [];      // [method name, arguments] made before Python is live
  var known = new Set();  // clientIds passed to init, for S3 before Python is live
  var api = null;      // the Python JavaScriptApi's methods once live
  var glue = null;     // pypush-glue.js, the JavaScript the Python side calls
  var bootError = null;

  function call(name, args) {
    // Python answers "" or the error to throw as "Error: message" / "TypeError: message"
    // (through glue.text: MicroPython encodes a text with U+0000 in it).
    var error = name === "init" ? api.init(Array.prototype.slice.call(args)) : api[name](args[0]);
    if (error) {
      error = glue.text(error);
      var type = error.slice(0, error.indexOf(": "));
      throw new (type === "TypeError" ? TypeError : Error)(error.slice(type.length + 2));
    }
  }

  function pending(name, args) {
    if (bootError) throw new Error("pypush could not start, faces.push." + name + " is unavailable: " + bootError.message);
    queue.push([name, args]);
  }

  function checkKnown(clientId) {
    if (!known.has(clientId)) {
      throw new Error("Unknown clientId: " + clientId);
    }
  }

  // S9: a socket the page asks for before Python is live opens at once, so that its
  // handshake overlaps the interpreter's boot. Its events are kept; when Python opens
  // that URL, pypush-glue.js hands it the socket and the events, in order. Python
  // still decides everything: a socket it does not take is closed after the replay.
  var firstUrl = new Map();  // clientId -> the URL of its first init (I3)
  var early = [];            // {clientId, url, ws, events}
  var SCHEMES = { "ws:": "ws:", "wss:": "wss:", "http:": "ws:", "https:": "wss:" };
  function websocketUrl(url) {  // as pypush.urls does it, after the same resolution
    var absolute;
    try { absolute = new URL(url, document.baseURI).href; } catch (e) { return null; }
    var colon = absolute.indexOf(":"), scheme = SCHEMES[absolute.slice(0, colon + 1).toLowerCase()];
    return scheme ? scheme + absolute.slice(colon + 1) : null;
  }
  function openEarly(clientId) {
    var url = firstUrl.get(clientId);
    if (typeof url !== "string" || typeof window.WebSocket !== "function") return;
    if (early.some(function (entry) { return entry.clientId === clientId; })) return;
    var wsUrl = websocketUrl(url), ws;
    if (!wsUrl) return;
    try { ws = new window.WebSocket(wsUrl); } catch (e) { return; }  // Python will say why
    var entry = { clientId: clientId, url: wsUrl, ws: ws, events: [] };
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = function (event) { entry.events.push(event); };
    early.push(entry);
  }

  var push = {
    init: function (clientId, url) {
      if (api) return call("init", arguments);
      if (typeof clientId === "string") {
        known.add(clientId);
        if (!firstUrl.has(clientId)) firstUrl.set(clientId, url);
      }
      pending("init", Array.prototype.slice.call(arguments));
      if (arguments[8]) openEarly(clientId);  // I4: autoconnect
    },
    open: function (clientId) {
      if (api) return call("open", arguments);
      checkKnown(clientId);
      pending("open", [clientId]);
      openEarly(clientId);
    },
    close: function (clientId) {
      if (api) return call("close", arguments);
      checkKnown(clientId);
      pending("close", [clientId]);
    }
  };

  installPush(push);

  // Pyodide logs a failed WebAssembly instantiation (a missing or broken .wasm)
  // and then never settles. Watch instantiation while booting, so ready rejects
  // instead of hanging (S5).
  function failFast(booting) {
    var wasm = WebAssembly, originals = [wasm.instantiate, wasm.instantiateStreaming];
    var failed = new Promise(function (resolve, reject) {
      function watch(original) {
        return function () {
          return original.apply(wasm, arguments).catch(function (error) {
            reject(new Error("WebAssembly could not be instantiated: " + error.message, { cause: error }));
            throw error;
          });
        };
      }
      wasm.instantiate = watch(originals[0]);
      wasm.instantiateStreaming = watch(originals[1]);
    });
    function restore() { wasm.instantiate = originals[0]; wasm.instantiateStreaming = originals[1]; }
    var settled = Promise.race([booting, failed]);
    settled.then(restore, restore);
    return settled;
  }

  // The interpreter (S8): MicroPython by default, fast to start and small;
  // <script src=".../faces-push.js" data-interpreter="pyodide"> for CPython's Pyodide.
  // A PyScript page (its core.js already included) shares PyScript's interpreter.
  var pyscriptPage = !!document.querySelector(
    'script[type="module"][src$="pyscript/core.js"], script[type="py"], script[type="mpy"]');
  var interpreter = (script && script.dataset.interpreter) || (pyscriptPage ? "pyscript" : "micropython");
  // The assets folder: "./" here, "./v-<hash>/" in a bundle (pypush_server/bundle.py
  // rewrites this line), so that its files can be cached for good under their name.
  var assets = "./";
  var at = new URL(assets, base).href;
  var LOADER_API = 1;  // what this loader expects of its assets (pypush-glue.js says its own)
  // Faces resource URLs: <h:outputScript library="pypush" name="faces-push.js"/> renders
  // .../jakarta.faces.resource/faces-push.js.xhtml?ln=pypush (FacesServlet on *.xhtml) or
  // .../faces/jakarta.faces.resource/faces-push.js?ln=pypush (on /faces/*), maybe with &v=...
  // There a sibling's URL is the same with its name in place of faces-push.js, the same
  // suffix and query after it: resource = [the match, its suffix, its query].
  var resource = /\/(?:jakarta|javax)\.faces\.resource\/(?:[^?#]*\/)?faces-push\.js([^\/?#]*)(\?[^#]*)?$/
    .exec(script ? script.src : "");
  /** The URL of an asset ("micropython/micropython.wasm": a path in the assets folder). */
  function asset(path) {
    return at + path + (resource ? resource[1] + (resource[2] || "") : "");
  }
  var runtimes = {
    pyodide: {
      files: ["pyodide/pyodide.mjs", "pyodide/pyodide.asm.mjs", "pyodide/pyodide.asm.wasm",
              "pyodide/python_stdlib_pyc.zip", "pyodide/pyodide-lock.json", "pypush-glue.js"],
      package: "pypush-pyc.json",  // {path: base64 bytecode}, sourceless .pyc: no compiling
      preload: [["modulepreload", "pyodide/pyodide.asm.mjs"], ["fetch", "pyodide/pyodide.asm.wasm"],
                ["fetch", "pyodide/python_stdlib_pyc.zip"], ["fetch", "pyodide/pyodide-lock.json"]],
      load: async function () {
        var module = await import(asset("pyodide/pyodide.mjs"));
        var pyodide = await failFast(module.loadPyodide(await pyodideLocations()));
        pyodide.pyimport("sys").path.insert(0, "/pypush-lib");
        return { runtime: pyodide, FS: pyodide.FS, lib: "/pypush-lib/" };
      }
    },
    micropython: {
      files: ["micropython/micropython.mjs", "micropython/micropython.wasm", "pypush-glue.js"],
      package: "pypush-mpy.json",  // {path: base64 bytecode}: no compiling at start-up
      preload: [["fetch", "micropython/micropython.wasm"]],
      load: async function () {
        var module = await import(asset("micropython/micropython.mjs"));
        // MicroPython grows its heap by itself; 1 MiB to start (its own default) keeps
        // WebAssembly memory at its 17 MB floor, where 16 MiB grew it to 20 MB (bench).
        var heapsize = Number(script && script.dataset.heapsize) || 1024 * 1024;
        var mp = await failFast(module.loadMicroPython({
          heapsize: heapsize, url: asset("micropython/micropython.wasm") }));
        return { runtime: mp, FS: mp.FS, lib: "/lib/" };  // /lib is on MicroPython's sys.path
      }
    }
  };

  // Where Pyodide finds its files. The standard library byte-compiled at build time:
  // Pyodide ships it as source, whose compiling was most of its boot
  // (pypush_build/pyodide_stdlib.py). Pyodide finds its other files as indexURL + name;
  // behind Faces resource URLs a name is followed by the suffix and ?ln=: name each file
  // instead, and make indexURL the .wasm's own URL plus "#/" (fetch drops the fragment),
  // which is what Pyodide fetches as indexURL + "pyodide.asm.wasm".
  async function pyodideLocations() {
    var stdLibURL = asset("pyodide/python_stdlib_pyc.zip");
    if (!resource) return { indexURL: at + "pyodide/", stdLibURL: stdLibURL };
    var asm = await import(asset("pyodide/pyodide.asm.mjs"));
    return {
      indexURL: asset("pyodide/pyodide.asm.wasm") + "#/",
      createPyodideModule: asm.default,
      stdLibURL: stdLibURL,
      lockFileURL: asset("pyodide/pyodide-lock.json")
    };
  }

  // Preload hints: the runtime's later files download while its first ones run.
  function preload(runtime) {
    runtime.preload.forEach(function (hint) {
      var link = document.createElement("link");
      if (nonce) link.nonce = nonce;
      link.rel = hint[0] === "modulepreload" ? "modulepreload" : "preload";
      if (hint[0] === "fetch") { link.as = "fetch"; link.crossOrigin = "anonymous"; }
      link.href = asset(hint[1]);
      document.head.appendChild(link);
    });
  }

  function contents(path, text) {
    // Bytecode (.mpy, .pyc) travels as base64; source as text.
    if (!/\.(mpy|pyc)$/.test(path)) return text;
    var bytes = atob(text), array = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) array[i] = bytes.charCodeAt(i);
    return array;
  }

  function writeFiles(FS, root, files) {
    Object.keys(files).forEach(function (path) {
      var parts = (root + path).split("/"), dir = "";
      for (var i = 1; i < parts.length - 1; i++) {
        dir += "/" + parts[i];
        try { FS.mkdir(dir); } catch (e) { /* exists */ }
      }
      FS.writeFile(root + path, contents(path, files[path]));
    });
  }

  // Performance marks of the boot's phases (pypush:loader, :runtime, :package, :glue,
  // :python, :live), for anyone who wants to see where start-up goes (python -m bench).
  function mark(phase) {
    if (typeof performance === "object" && performance.mark) performance.mark("pypush:" + phase);
  }
  function marked(phase) { return function (value) { mark(phase); return value; }; }
  mark("loader");

  function start(python, runtime) {
    // Bound method proxies taken once: a fresh one per call would have to be destroyed.
    api = { init: python.init, open: python.open, close: python.close,
            state: python.state, live_proxies: python.live_proxies };
    var calls = queue;
    queue = [];
    glue.offerSockets(early);  // S9: taken as Python opens their URLs during the replay
    for (var i = 0; i < calls.length; i++) {
      try {
        call(calls[i][0], calls[i][1]);
      } catch (error) {
        reportError(error);  // S2: one bad call must not stop the rest of the queue
      }
    }
    glue.offerSockets(null);  // what Python did not take is closed
    early = [];
    mark("live");
    var info = { interpreter: interpreter };
    info[interpreter] = runtime;
    return info;
  }

  // data-interpreter="pyscript": no interpreter of our own. PyScript's runs the
  // page's Python, whose `import pypush.browser` calls attach() with the API.
  // So that this does not depend on the page's own Python importing pypush, add
  // one line of Python of the page's kind, run by PyScript after the page's own.
  var attached;
  function pyscriptInterpreter() {
    return new Promise(function (resolve, reject) {
      // The page's Python may have imported pypush.browser before this script ran:
      // then it left its API here instead of calling attach().
      var early = window.pypushPythonApi;
      if (early) {
        delete window.pypushPythonApi;
        resolve(early);
        return;
      }
      // Settles once: attach() resolves, fail() rejects, and either stops the watch.
      var unwatch = watchPyscript(fail);
      attached = function (python) { unwatch(); resolve(python); };
      function fail(error) {
        if (!attached) return;
        attached = null;
        unwatch();
        reject(error);
      }
      function importPypush() {
        var first = document.querySelector('script[type="py"], script[type="mpy"]');
        if (!first) {
          fail(new Error('data-interpreter="pyscript" but this page has no <script type="py"> or "mpy"'));
          return;
        }
        var line = document.createElement("script");
        line.type = first.type;
        if (nonce) line.nonce = nonce;
        line.textContent = "import pypush.browser";
        // PyScript marks a script done once it has run; if pypush has not attached by
        // then, its import failed (PyScript has shown why on the page and the console).
        line.addEventListener(first.type + ":done", function () {
          fail(new Error("PyScript ran `import pypush.browser` but pypush did not start " +
            "(see the error PyScript reported)"));
        });
        document.body.appendChild(line);
      }
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", importPypush);
      } else {
        importPypush();
      }
    });
  }

  // S5: PyScript has no failure event. While we wait for it, a policy violation or an
  // uncaught error in PyScript's own files means it cannot start: say so, and why.
  function watchPyscript(fail) {
    var core = document.querySelector('script[type="module"][src$="pyscript/core.js"]');
    var folder = core ? new URL("./", core.src).href : null;
    function ours(file) { return !!folder && typeof file === "string" && file.indexOf(folder) === 0; }
    function onViolation(event) {
      if (!ours(event.sourceFile)) return;
      fail(new Error("PyScript cannot start under this page's Content-Security-Policy: " +
        (event.blockedURI === "eval"
          ? "it evaluates strings as JavaScript, which needs 'unsafe-eval' in " + event.effectiveDirective +
            " (pypush itself needs nothing beyond 'self', the nonce and 'wasm-unsafe-eval')"
          : event.effectiveDirective + " refused " + event.blockedURI) +
        " [" + event.sourceFile + ":" + event.lineNumber + "]"));
    }
    function onError(event) {
      if (ours(event.filename)) fail(new Error("PyScript failed to start: " + event.message));
    }
    document.addEventListener("securitypolicyviolation", onViolation);
    window.addEventListener("error", onError);
    return function () {
      document.removeEventListener("securitypolicyviolation", onViolation);
      window.removeEventListener("error", onError);
    };
  }

  // The same module PyScript's configurations list under js_modules (one instance
  // per page: modules are cached by URL), handed to our interpreters as pypush_glue.
  function loadGlue() {
    return import(asset("pypush-glue.js")).then(function (module) {
      if (module.LOADER_API !== LOADER_API) {
        throw new Error("the assets at " + at + " were made for another version of this " +
          "loader (a page that kept an old faces-push.js across an upgrade): reload the page");
      }
      glue = Object.assign({}, module);
    });
  }

  // A browser may run a cached faces-push.js of an earlier release (it is cached for a
  // few minutes, so that warm visits skip a round trip), whose assets folder the server
  // no longer has. Then ask the server for today's loader and boot today's assets.
  function currentAssets() {
    if (!script || !script.src) return Promise.resolve(null);
    return fetch(script.src, { cache: "no-cache" }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (text) {
      var named = /var assets = "(\.\/v-[0-9a-f]+\/)";/.exec(text);
      var now = named && new URL(named[1], base).href;
      return now && now !== at ? now : null;
    });
  }

  async function boot() {
    if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
    if (interpreter === "pyscript") {
      var [python] = await Promise.all([pyscriptInterpreter(), loadGlue()]);
      return start(python, null);
    }
    var runtime = runtimes[interpreter];
    if (!runtime) throw new Error("unknown data-interpreter \"" + interpreter + "\" (pyodide or micropython)");
    if (document.head) preload(runtime);
    var [loaded, files] = await Promise.all([
      runtime.load().then(marked("runtime")),
      fetch(asset(runtime.package)).then(function (response) {
        if (!response.ok) throw new Error("GET " + asset(runtime.package) + " answered " + response.status);
        return response.json();
      }).then(marked("package")),
      loadGlue().then(marked("glue"))
    ]);
    writeFiles(loaded.FS, loaded.lib, files);
    loaded.runtime.registerJsModule("pypush_glue", glue);
    var python = loaded.runtime.pyimport("pypush.browser").install();
    mark("python");
    return start(python, loaded.runtime);
  }

  // Only on failure: name the bundle files the server does not have, since
  // Pyodide's own message for a missing file can be as vague as "exit(1)".
  async function missingFiles() {
    var runtime = runtimes[interpreter] || { files: [], package: [] };
    var files = runtime.files.concat(runtime.package);
    var answers = await Promise.all(files.map(function (file) {
      return fetch(asset(file), { method: "HEAD" }).then(
        function (response) { return response.ok ? null : file + " answered " + response.status; },
        function () { return file + " could not be fetched"; });
    }));
    return answers.filter(Boolean);
  }

  // S12: Python could not start. No socket opened for it may stay open (its server would
  // count it, and pushes would go nowhere), and each client the page asked to connect
  // hears of it once, as from a browser without WebSocket (I2): onclose(-1, channel),
  // with the onclose of its first init resolved as I1 resolves it.
  function abandon() {
    early.forEach(function (entry) {
      var ws = entry.ws;
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try { ws.close(); } catch (e) { /* a socket nobody uses: nothing to report */ }
    });
    early = [];
    var inits = new Map(), asked = [];
    queue.forEach(function (call) {
      var args = call[1], clientId = args[0];
      if (call[0] === "init" && !inits.has(clientId)) inits.set(clientId, args);
      var connects = call[0] === "open" || (call[0] === "init" && args[8]);
      if (connects && asked.indexOf(clientId) < 0) asked.push(clientId);
    });
    queue = [];
    asked.forEach(function (clientId) {
      var args = inits.get(clientId);
      var onclose = args && (typeof args[6] === "string" ? window[args[6]] : args[6]);
      if (typeof onclose !== "function") return;
      try { onclose(-1, args[2]); } catch (error) { reportError(error); }
    });
  }

  var ready = boot().catch(function (cause) {
    return currentAssets().then(function (moved) {
      if (!moved) throw cause;
      at = moved;
      return boot();
    }, function () { throw cause; });
  }).catch(async function (cause) {
    var missing = await missingFiles().catch(function () { return []; });
    bootError = new Error("pypush could not start Python from " + base + ": " +
      (cause && cause.message || cause) + (missing.length ? " (" + missing.join(", ") + ")" : ""),
      { cause: cause });
    console.error(bootError);
    abandon();
    throw bootError;
  });
  ready.catch(function () {});  // reported above; awaiting code still sees the rejection

  window.pypush = {
    /** The faces.push object of this loader (a second copy of the script reuses it). */
    push: push,
    ready: ready,
    base: base,
    interpreter: interpreter,
    /** Called by pypush.browser when PyScript imports it (data-interpreter="pyscript"). */
    attach: function (python) {
      var take = attached;
      attached = null;
      if (take) take(python);
    },
    /** The state of a client: idle, connecting, open, waiting, offline or closing. */
    state: function (clientId) { return api ? api.state(clientId) : "idle"; },
    /** Proxies of Python callables alive now (R1); 0 before Python is live. */
    liveProxies: function () { return api ? api.live_proxies() : 0; }
  };
})();
