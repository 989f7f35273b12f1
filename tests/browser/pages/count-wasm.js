// Counts WebAssembly modules instantiated: one interpreter boot makes one. (Failed
// attempts do not count: Emscripten falls back from streaming to a plain instantiate.)
window.wasmInstantiations = 0;
["instantiate", "instantiateStreaming"].forEach(function (name) {
  var original = WebAssembly[name];
  WebAssembly[name] = function () {
    return original.apply(WebAssembly, arguments).then(function (result) {
      window.wasmInstantiations += 1;
      return result;
    });
  };
});
