// The page's Python, of the kind ?kind= names (py: Pyodide, mpy: MicroPython), with the
// jar's PyScript configuration (the jar written with --url-prefix /faces-app/pypush/).
(function () {
  var kind = new URLSearchParams(location.search).get("kind");
  document.write('<script type="' + kind + '" src="pyscript-client.py" config="' +
    "/faces-app/pypush/pyscript-" + kind + '.json"><\/script>');
})();
