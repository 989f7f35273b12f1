/* The demo page's own glue: it only renders what faces.push hands it. */
window.demo = (function () {
  "use strict";

  function el(id) { return document.getElementById(id); }

  function state(client, text, kind) {
    var badge = el(client + "-state");
    badge.textContent = text;
    badge.dataset.kind = kind || text;
    if (client === "clock") el("clock-toggle").textContent = kind === "closed" ? "Connect" : "Disconnect";
  }

  pypush.ready.then(
    function (info) { el("runtime").textContent = info.interpreter + " ready"; },
    function (error) { el("runtime").textContent = "failed: " + error.message; }
  );

  el("clock-toggle").addEventListener("click", function () {
    if (el("clock-state").dataset.kind === "closed") {
      state("clock", "connecting");
      faces.push.open("clock");
    } else {
      faces.push.close("clock");
    }
  });

  el("chat-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = el("chat-text");
    var text = input.value.trim();
    if (!text) return;
    fetch("/demo/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: text })
    }).then(function (response) {
      if (response.ok) input.value = "";
    });
  });

  return {
    state: state,
    onClock: function (message) {
      el("clock").textContent = message.time;
    },
    onChat: function (message) {
      var item = document.createElement("li");
      var time = document.createElement("time");
      time.textContent = message.at;
      item.appendChild(time);
      item.appendChild(document.createTextNode(" " + message.text));
      el("chat-log").prepend(item);
    },
    onError: function (client) {
      return function (code) { state(client, "retrying (" + code + ")", "retrying"); };
    },
    onClose: function (client) {
      return function (code) { state(client, "closed (" + code + ")", "closed"); };
    }
  };
})();
