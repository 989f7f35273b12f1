// A page of another origin sends the push server every request a page can send
// without the server's consent: "simple" requests (text/plain, forms, no body, a
// beacon), which need no CORS preflight, and JSON or DELETE, which do. The test
// reads window.attempts (what the browser let through) once window.done is set.
// ?target=http://HOST:PORT&channel=NAME&id=CHANNELID
(function () {
  var query = new URLSearchParams(location.search);
  var target = query.get("target");
  var channel = query.get("channel");
  var api = target + "/api/channels/" + channel;
  window.attempts = {};
  window.done = false;

  function attempt(name, url, init) {
    return fetch(url, init).then(
      function (response) { attempts[name] = "sent (" + response.type + ")"; },
      function (error) { attempts[name] = "blocked: " + error.name; }
    );
  }

  var form = new URLSearchParams();
  form.set("text", "from evil");
  Promise.all([
    attempt("push as text/plain", api + "/push", {
      method: "POST", mode: "no-cors", body: '"from evil"'
    }),
    attempt("push as a form", api + "/push", { method: "POST", mode: "no-cors", body: form }),
    attempt("drop with no body", api + "/drop", { method: "POST", mode: "no-cors" }),
    attempt("demo chat as text/plain", target + "/demo/chat", {
      method: "POST", mode: "no-cors", body: '{"text": "from evil"}'
    }),
    attempt("push as JSON", api + "/push", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: '"from evil"'
    }),
    attempt("expire", target + "/api/channel-ids/" + query.get("id"), { method: "DELETE" })
  ]).then(function () {
    attempts["beacon"] = navigator.sendBeacon(api + "/push", '"beacon from evil"')
      ? "queued" : "refused by the browser";
    window.done = true;
  });
})();
