// First in <head> of the CSP pages: every securitypolicyviolation, as a line of #violations
// (kept in a list until the body exists), so a test reads it without evaluating a script.
(function () {
  var pending = [];
  function show(line) {
    var list = document.getElementById("violations");
    if (!list) { pending.push(line); return; }
    var item = document.createElement("li");
    item.textContent = line;
    list.appendChild(item);
  }
  document.addEventListener("securitypolicyviolation", function (event) {
    show(event.violatedDirective + " blocked " + (event.blockedURI || "inline") + " in " +
         (event.sourceFile || "the page") + ":" + event.lineNumber);
  });
  document.addEventListener("DOMContentLoaded", function () {
    pending.splice(0).forEach(show);
  });
})();
