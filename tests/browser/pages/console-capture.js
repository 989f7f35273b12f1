// WebKit (tests/browser/webkit.py): record console output and uncaught errors from the
// start of loading (webkit.PAGE_SUPPORT_JS is this file); does nothing in Chromium.
(function () {
  if (window.__consoleLines || /Chrom(e|ium)\//.test(navigator.userAgent)) return;
  window.__nativeTimers = window.__nativeTimers ||
    { setTimeout: window.setTimeout, clearTimeout: window.clearTimeout };
  var lines = (window.__consoleLines = []);
  var errors = (window.__pageErrors = []);
  var LIMIT = 20000;
  function push(list, item) { if (list.length < LIMIT) list.push(item); }
  // A lone surrogate becomes the text \uXXXX: geckodriver refuses it in JSON, and these
  // lines travel back with every evaluation.
  function wellFormed(text) {
    return String(text).replace(
      /[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])([\udc00-\udfff])/g,
      function (match, before, low) {
        var unit = low || match;
        return (before || "") + "\\u" + unit.charCodeAt(0).toString(16);
      });
  }
  function show(value) { return wellFormed(text(value)); }
  function text(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return String(value);
    if (value && typeof value === "object") {
      try { return JSON.stringify(value); } catch (e) { return String(value); }
    }
    return String(value);
  }
  var types = { log: "log", info: "info", warn: "warning", error: "error", debug: "debug",
                trace: "trace", dir: "dir" };
  Object.keys(types).forEach(function (name) {
    var original = console[name];
    if (typeof original !== "function") return;
    console[name] = function () {
      push(lines, { type: types[name], text: Array.prototype.map.call(arguments, show).join(" ") });
      return original.apply(this, arguments);
    };
  });
  function describe(error, fallback) {
    if (error instanceof Error) {
      return { name: error.name, message: wellFormed(error.message),
               stack: wellFormed(error.stack || "") };
    }
    return { name: "", message: wellFormed(fallback !== undefined ? fallback : show(error)),
             stack: "" };
  }
  window.addEventListener("error", function (event) {
    push(errors, describe(event.error, event.message));
  });
  window.addEventListener("unhandledrejection", function (event) {
    push(errors, describe(event.reason));
  });
})();
