// Includes the pypush loader, on the interpreter the page's ?interpreter= names
// (data-interpreter="pyodide"), the loader's default (MicroPython) otherwise. A parser-blocking script
// may document.write the tag, so the loader runs exactly as a static tag would.
// ?bundle=/other/ loads the bundle from another folder (S5's broken bundles);
// ?nowasm=1 takes WebAssembly away first, on any engine (S5);
// ?faces=suffix or ?faces=prefix loads it from the resource jar as a Faces application
// renders <h:outputScript library="pypush" name="faces-push.js"/> (serve.py --faces-jar),
// FacesServlet mapped to *.xhtml or to /faces/*; ?v=VERSION adds &v=VERSION as Faces may.
(function () {
  var query = new URLSearchParams(location.search);
  var interpreter = query.get("interpreter");
  var faces = query.get("faces");
  var src = (query.get("bundle") || "/pypush/") + "faces-push.js";
  if (faces) {
    src = "/faces-app/" + (faces === "prefix" ? "faces/jakarta.faces.resource/faces-push.js"
                                              : "jakarta.faces.resource/faces-push.js.xhtml") +
      "?ln=pypush" + (query.get("v") ? "&amp;v=" + encodeURIComponent(query.get("v")) : "");
  }
  if (query.get("nowasm")) delete window.WebAssembly;
  // ?slowwasm=MS holds every WebAssembly instantiation back for MS (real) milliseconds,
  // so that a test can act while Python boots (S9).
  var slow = Number(query.get("slowwasm"));
  if (slow) {
    ["instantiate", "instantiateStreaming"].forEach(function (name) {
      var original = WebAssembly[name], wait = setTimeout;
      WebAssembly[name] = function () {
        var args = arguments;
        return new Promise(function (resolve) { wait(resolve, slow); })
          .then(function () { return original.apply(WebAssembly, args); });
      };
    });
  }
  document.write('<script src="' + src + '"' +
    (interpreter ? ' data-interpreter="' + interpreter + '"' : "") + "><\/script>");
})();
