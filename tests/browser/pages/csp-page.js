// The callbacks of the CSP pages: they write what they get into #log, one line each, and
// the buttons call faces.push (handlers registered here: the page has no inline ones).
window.cspPage = (function () {
  function log(line) {
    var item = document.createElement("li");
    item.textContent = line;
    document.getElementById("log").appendChild(item);
  }
  pypush.ready.then(
    function (info) { document.getElementById("ready").textContent = "ready " + info.interpreter; },
    function (error) { document.getElementById("ready").textContent = "failed " + error.message; });
  document.getElementById("close").addEventListener("click", function () { faces.push.close("csp"); });
  document.getElementById("open").addEventListener("click", function () { faces.push.open("csp"); });
  return {
    log: log,
    onopen: function (channel) { log("open " + channel); },
    onmessage: function (message, channel) { log("message " + JSON.stringify(message) + " " + channel); },
    onerror: function (code, channel) { log("error " + code + " " + channel); },
    onclose: function (code, channel) { log("close " + code + " " + channel); },
    refresh: function () { log("behavior refresh"); }
  };
})();
