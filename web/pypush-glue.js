/*
 * pypush-glue.js: the JavaScript that pypush's Python side calls.
 *
 * The loader imports this module and hands it to the interpreter as the Python
 * module `pypush_glue` (registerJsModule); on PyScript pages the bundle's
 * configurations list it under js_modules, as `pyscript.js_modules.pypush_glue`.
 * Shipping it as a file rather than compiling strings keeps pages under a strict
 * Content-Security-Policy working (no 'unsafe-eval').
 *
 * Rules for everything here:
 * - Nothing decides anything: the faces.push rules live in Python (pypush/core.py).
 *   Each helper does in one call what would otherwise take several crossings.
 * - Nothing throws into Python: MicroPython cannot catch a JavaScript exception,
 *   so failures come back as values (false, or an error's text).
 * - Texts cross as they are, or, where an interpreter would change them, as
 *   "\u0001" + JSON, decoded on the other side: MicroPython cuts a string it hands
 *   to JavaScript at its first U+0000 (text() decodes what Python sent), and
 *   miscounts a string with a lone surrogate that it receives (py() encodes it).
 * - Values the page gave stay JavaScript values: a message reaches onmessage as
 *   JSON.parse(frame).data made it, and the channel as the page passed it to init,
 *   never after a round trip through Python.
 */

/** The loader these assets work with (faces-push.js checks it: a cached old loader may meet
 *  newer assets after an upgrade). Raise it when the loader's side of their contract changes. */
export const LOADER_API = 1;

// The message being delivered, and its MessageEvent: set around the one synchronous call
// into Python that delivers it (see wire), so that nothing of it needs to cross into
// Python unless Python asks (keyOf, dataOf, currentEvent), nor cross back: MicroPython
// makes a proxy of every object that crosses, which only its collector frees.
let currentData = null, currentEvent = null;
// Whether Python took the event of the message being delivered (see wire's `collect`).
let eventHanded = false;

/** A text Python sent: as it was, or decoded when Python had to encode it. */
export function text(value) {
  return typeof value === "string" && value.charCodeAt(0) === 1 ? JSON.parse(value.slice(1)) : value;
}

const wellFormed = typeof String.prototype.isWellFormed === "function"
  ? (s) => s.isWellFormed()
  : (s) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/.test(s);
const INT32 = 2147483647;

/**
 * A value for Python (pypush.browser_platform.from_js decodes it): strings both
 * interpreters carry whole and small numbers as they are; anything else, and a string
 * that starts with the marker, as "\u0001" + JSON. (MicroPython also carries integers
 * only up to 32 bits.)
 */
export function py(value) {
  switch (typeof value) {
    case "string":
      return value.charCodeAt(0) !== 1 && wellFormed(value) ? value : "\u0001" + JSON.stringify(value);
    case "number":
      return !Number.isInteger(value) || (value <= INT32 && value >= -INT32 - 1) ? value : "\u0001" + JSON.stringify(value);
    case "boolean":
    case "undefined":
      return value;
    default:
      return "\u0001" + (value === null ? "null" : JSON.stringify(value));
  }
}

// -- values -----------------------------------------------------------------------------

/** typeof, with "null" for null. */
export function typeOf(value) {
  return value === null ? "null" : typeof value;
}

/** JavaScript's truthiness (I4's autoconnect). */
export function truthy(value) {
  return !!value;
}

function plainString(value) {
  try { return String(value); } catch (e) { return Object.prototype.toString.call(value); }
}

/** String(value) for Python (through py()): the text of a thrown error, a clientId. */
export function string(value) {
  return py(plainString(value));
}

// "Nothing" reaches Python as undefined, which Pyodide makes None and MicroPython an
// object of its own `undefined` type (null: Pyodide's jsnull, MicroPython's None), so
// Python tells a value's kind by typeOf(), never by testing for None.

/** I1: a function, the name of a global function (never evaluated), else undefined. */
export function callback(value) {
  if (typeof value === "string") value = globalThis[value];
  return typeof value === "function" ? value : undefined;
}

/** I5/E4: the object's own keys (for Python), each with its array of functions. */
export function ownEntries(object) {
  return Object.keys(object).map((key) => {
    const value = object[key];
    return [py(key), Array.isArray(value) ? value : [value]];
  });
}

/** What Python reads of faces.push.init's arguments: clientId, url, channel, for Python. */
export function initTexts(args) {
  return [py(args[0]), typeof args[1] === "string" ? py(args[1]) : args[1], py(args[2])];
}

// -- the page's callbacks ----------------------------------------------------------------

// Each wrapper runs one page function and returns false, or what it threw (E5: the
// core reports it and goes on). The channel is the page's own string, bound here.

function guarded(fn, call) {
  try { call(fn); return false; } catch (error) { return error === false ? "false" : error; }
}

/**
 * The page's four callbacks of an init, bound to the channel it passed (args[2]), as
 * functions Python calls with what only it knows: onmessage() (the message being
 * delivered), onopen(),
 * onerror(code, event), onclose(code[, event]); undefined where the page gave none.
 * And ongap(missed, reason) (P4): window.pypush.ongap, looked up when a gap happens,
 * called with (clientId, channel, missed or null, reason).
 */
export function pageCallbacks(args) {
  const clientId = args[0], channel = args[2];
  const onopen = callback(args[3]), onmessage = callback(args[4]);
  const onerror = callback(args[5]), onclose = callback(args[6]);
  return {
    onopen: onopen && (() => guarded(onopen, (fn) => fn(channel))),
    onmessage: onmessage && (() => guarded(onmessage, (fn) => fn(currentData, channel, currentEvent))),
    onerror: onerror && ((code, event) => guarded(onerror, (fn) => fn(code, channel, event))),
    onclose: onclose && function (code, event) {
      // I2 passes no event: the page sees two arguments, as Mojarra calls it.
      return guarded(onclose, arguments.length > 1 ? (fn) => fn(code, channel, event) : (fn) => fn(code, channel));
    },
    ongap: (missed, reason) => {
      const loader = globalThis.pypush, ongap = loader && loader.ongap;
      if (typeof ongap !== "function") return false;
      return guarded(ongap, (fn) => fn(clientId, channel, missed == null ? null : missed, text(reason)));
    },
  };
}

/** A behavior (no argument), a Python function's JavaScript side, or any function. */
export function guard(fn) {
  return function () {
    const args = arguments;
    return guarded(fn, (f) => f.apply(null, args));
  };
}

/** E3: the message being delivered, for Python (the Python face). */
export function dataOf() {
  return py(currentData);
}

/** E3/E4: the message being delivered, when it is a string (a behavior key). */
export function keyOf() {
  return typeof currentData === "string" ? py(currentData) : undefined;
}

/** The MessageEvent of the message being delivered (the Python face's `event`). */
export function messageEvent() {
  eventHanded = true;
  return currentEvent;
}

// -- sockets -----------------------------------------------------------------------------

export function hasWebSocket() {
  return typeof globalThis.WebSocket === "function";
}

/** The URL made absolute against the document's base URL, or false. */
export function resolveUrl(url) {
  try {
    return new URL(text(url), (globalThis.document && document.baseURI) || location.href).href;
  } catch (e) {
    return false;
  }
}

// S9: sockets the loader opened before Python was live, offered while it replays the
// page's calls; each is taken by the first open of its URL, with the events it had.
let offered = null;
const earlyEvents = new WeakMap();

/** The loader's early sockets (an array), or null to end the offer: the rest are closed. */
export function offerSockets(list) {
  if (list === null && offered) {
    for (const entry of offered) {
      if (entry.taken) continue;
      const ws = entry.ws;
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try { ws.close(); } catch (e) { /* closing a socket nobody uses: nothing to report */ }
    }
  }
  offered = list;
}

/** O3: window.WebSocket looked up at each call (or an early socket of this URL, S9).
 *  A failure comes back as its message. */
export function newWebSocket(url) {
  url = text(url);
  const entry = offered && offered.find((e) => !e.taken && e.url === url);
  if (entry) {
    entry.taken = true;
    earlyEvents.set(entry.ws, entry.events);
    return entry.ws;
  }
  try { return new globalThis.WebSocket(url); } catch (e) { return string(e && e.message); }
}

/** Whether the page's Faces implementation is MyFaces (its faces.js sets window.myfaces),
 *  whose server sends each push message as its own JSON (E3), not Mojarra's {"data": ...}. */
function myFacesPage() {
  const myfaces = globalThis.myfaces;
  return myfaces !== null && typeof myfaces === "object";
}

// P1: a message's position, "EPOCH:OFFSET" (pypush's server). Anything else in "id" is
// no position: the message is delivered as a Faces server's would be.
const POSITION = /^[A-Za-z0-9_-]{1,64}:(?:0|[1-9][0-9]{0,14})$/;

/**
 * Wires a socket's events to Python: onOpen(), onFrame() with the frame parsed here and
 * held as the message being delivered (E3), onControl(text, event) for a frame meant for
 * pypush (JSON with a "pypush" key and no "data"), onBadFrame(why, event) for what is
 * not a push message (E6), onClose(event) exactly once.
 *
 * A message with a position (P1) is onFrame(offset), or onFrame(offset, epoch) when its
 * epoch is not the one of the socket's previous positioned message: one number crosses
 * per message, the epoch only when it changes. An offset beyond 32 bits (MicroPython
 * carries no more) crosses as its digits, always with its epoch.
 *
 * `collect` (MicroPython only) runs Python's collector after every `budget` characters
 * of frames whose event Python was handed (the Python face's `event`, a control or a bad
 * frame): such an event stays alive, through its proxy, until the collector frees the
 * proxy. A message Python decides on without taking its event (the JavaScript face's)
 * leaves nothing to free, and costs no collection.
 *
 * An early socket (S9) gets its kept events replayed through these handlers, in order,
 * in a microtask: after the core has taken the socket, before any later event.
 *
 * WebKit fires `error` but never `close` for a connection it refuses to even try (a
 * blocked port such as 1 or 6000): when `close` has not come graceMs after an error
 * before open, make it (1006, as Chromium reports the same failure).
 */
export function wire(ws, onOpen, onFrame, onControl, onBadFrame, onClose, graceMs, collect, budget) {
  let closed = false, opened = false, pending = 0, epoch = null;
  const handed = (size) => {
    if (collect && (pending += size) >= budget) { pending = 0; collect(); }
  };
  heardAt.set(ws, Date.now());
  ws.onopen = () => { opened = true; heardAt.set(ws, Date.now()); onOpen(); };
  ws.onmessage = (event) => {
    heardAt.set(ws, Date.now());
    const frame = event.data;
    if (typeof frame !== "string") {
      onBadFrame("a binary frame, expected JSON text", event);
      return handed(frame.byteLength || frame.size || 0);
    }
    let parsed;
    try { parsed = JSON.parse(frame); } catch (e) {
      onBadFrame(string(e.message), event);
      return handed(frame.length);
    }
    let id;
    if (parsed === null || typeof parsed !== "object" || !("data" in parsed)) {
      if (parsed !== null && typeof parsed === "object" && typeof parsed.pypush === "string") {
        onControl(py(frame), event);
        return handed(frame.length);
      } else if (!myFacesPage()) {
        onBadFrame('JSON without a "data" property', event);
        return handed(frame.length);
      }
      // E3: MyFaces' PushContext sends the message's JSON itself, never in {"data": ...}.
      currentData = parsed;
    } else {
      currentData = parsed.data;
      id = parsed.id;
    }
    currentEvent = event;
    try {
      if (typeof id !== "string" || !POSITION.test(id)) {
        onFrame();
      } else {
        const at = id.lastIndexOf(":"), offset = +id.slice(at + 1);
        if (offset > INT32) {
          epoch = id.slice(0, at);
          onFrame(id.slice(at + 1), epoch);
        } else if (epoch !== null && at === epoch.length && id.startsWith(epoch)) {
          onFrame(offset);
        } else {
          epoch = id.slice(0, at);
          onFrame(offset, epoch);
        }
      }
    } finally { currentData = currentEvent = null; }
    if (eventHanded) { eventHanded = false; handed(frame.length); }
  };
  ws.onclose = (event) => {
    if (closed) return;
    closed = true;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    onClose(event);
  };
  ws.onerror = () => {
    if (opened) return;
    setTimeout(() => {
      if (!closed && ws.readyState === 3) {  // CLOSED
        ws.onclose(new CloseEvent("close", { code: 1006, reason: "", wasClean: false }));
      }
    }, graceMs);
  };
  const kept = earlyEvents.get(ws);
  if (kept) {
    earlyEvents.delete(ws);
    queueMicrotask(() => {
      for (const event of kept) {
        const handler = ws["on" + event.type];
        if (handler) handler.call(ws, event);
      }
    });
  }
}

// N4: when each socket last heard from its server (open, or any frame), kept here so that
// a message costs no extra call into Python; the core asks only when it checks (silence).
const heardAt = new WeakMap();

/** N4: milliseconds since the socket last heard anything (Date.now: it goes on through sleep). */
export function silence(ws) {
  const at = heardAt.get(ws);
  return at === undefined ? 0 : Math.max(0, Date.now() - at);
}

/** N4: send a text frame (the hello to pypush's server); what send() throws comes back as text. */
export function sendText(ws, value) {
  try { ws.send(text(value)); return ""; } catch (e) { return string(e && e.message); }
}

/** Close a socket; what close() throws comes back as its text. */
export function closeSocket(ws) {
  try { ws.close(); return ""; } catch (e) { return string(e && e.message); }
}

// -- the browser's network and the page's visibility (N1-N3) ---------------------------------

/** N1: navigator.onLine; a browser that does not say is online. */
export function isOnline() {
  return !(globalThis.navigator && navigator.onLine === false);
}

/**
 * N1-N3: tell Python what the browser fires: onNetwork(false) at `offline`, onNetwork(true)
 * at `online`, onShown() when the page becomes visible again or is restored from the
 * back/forward cache (`pageshow` with `persisted`). Python decides what follows.
 */
export function watchPage(onNetwork, onShown) {
  if (typeof globalThis.addEventListener !== "function") return false;
  globalThis.addEventListener("offline", () => onNetwork(false));
  globalThis.addEventListener("online", () => onNetwork(true));
  globalThis.addEventListener("pageshow", (event) => { if (event.persisted) onShown(); });
  const doc = globalThis.document;
  if (doc) doc.addEventListener("visibilitychange", () => { if (doc.visibilityState === "visible") onShown(); });
  return true;
}

// -- timers and reports -------------------------------------------------------------------

/** R2: the page's setTimeout, looked up at each call. What it throws comes back as text. */
export function setTimer(fn, ms) {
  try { return globalThis.setTimeout(fn, ms); } catch (e) { return py("setTimeout threw " + plainString(e && e.message || e)); }
}

/** A clearTimeout that throws leaves the timer to fire; the core ignores stale timers. */
export function clearTimer(id) {
  try { globalThis.clearTimeout(id); } catch (e) { /* see above */ }
}

/** E5: report without throwing, so the page's error handlers and the console see it. */
export function report(message, cause) {
  const error = new Error(text(message));
  if (cause) error.cause = cause;
  try { globalThis.reportError(error); } catch (e) { console.error(error); }
}

/** E6: a problem that stops nothing. */
export function warn(message) {
  console.error(text(message));
}

/** P4: what the page should know of, a warning (messages lost across a reconnect). */
export function notice(message) {
  console.warn(text(message));
}

// -- the loader ---------------------------------------------------------------------------

/**
 * One interpreter per page: when PyScript runs pypush.browser and the loader waits
 * for it, faces.push uses this interpreter too. Before the loader has run, the API
 * waits on window.pypushPythonApi for the loader to take it.
 */
export function attach(api) {
  const loader = globalThis.pypush;
  if (loader && typeof loader.attach === "function") {
    loader.attach(api);
    return true;
  }
  globalThis.pypushPythonApi = api;
  return false;
}
