// Includes the pypush loader, on the interpreter the page's ?interpreter= names
// (data-interpreter="micropython"), Pyodide otherwise. A parser-blocking script
// may document.write the tag, so the loader runs exactly as a static tag would.
(function () {
  var interpreter = new URLSearchParams(location.search).get("interpreter");
  document.write('<script src="/pypush/faces-push.js"' +
    (interpreter ? ' data-interpreter="' + interpreter + '"' : "") + "><\/script>");
})();
