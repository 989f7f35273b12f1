// Records every faces.push callback, per clientId, in a form Playwright can read.
window.calls = {};
window.errors = [];
window.addEventListener("error", function (event) {
  window.errors.push(String(event.error && event.error.message || event.message));
});
function describe(value) {
  if (value instanceof Event) {
    return { event: value.type, code: value.code, reason: value.reason };
  }
  return value;
}
// Every WebSocket the page makes, by the URL the page gave (a resume's
// "&pypush-resume=..." left out, P2), with the (possibly fake) time it was made;
// socketURLs: every URL as opened, in order; pypushFrames: the frames for pypush (no
// "data") each channel's sockets received, and what the page sent on them.
window.socketsMade = {};
window.socketURLs = [];
window.pypushFrames = {};
window.lastCloseEvent = {};
(function (NativeWebSocket) {
  window.WebSocket = class extends NativeWebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      var given = String(url).replace(/&pypush-resume=[^&]*/, "");
      (socketsMade[given] = socketsMade[given] || []).push(Date.now());
      socketURLs.push(String(url));
      var frames = (pypushFrames[given] = pypushFrames[given] || []);
      this.addEventListener("message", function (event) {
        if (typeof event.data === "string" && event.data.indexOf('{"pypush"') === 0) frames.push(event.data);
      });
      var send = this.send;
      this.send = function (data) { frames.push("sent " + data); return send.call(this, data); };
      // The browser's own close event, to compare with what pypush's callbacks get.
      this.addEventListener("close", function (event) { lastCloseEvent[url] = event; });
    }
  };
})(window.WebSocket);
window.stamps = {};  // clientId -> [kind, Date.now()] for each callback
window.recorder = function (clientId) {
  var log = (window.calls[clientId] = []);
  var stamps = (window.stamps[clientId] = []);
  function entry(kind) {
    return function () {
      var args = Array.prototype.map.call(arguments, describe);
      log.push([kind].concat(args));
      stamps.push([kind, Date.now()]);
    };
  }
  return {
    onopen: entry("open"),
    onmessage: function (message, channel, event) {
      log.push(["message", message, channel, describe(event),
                Array.isArray(message) ? "array" : message === null ? "null" : typeof message]);
      stamps.push(["message", Date.now()]);
    },
    onerror: entry("error"),
    onclose: entry("close")
  };
};
window.initRecorded = function (clientId, url, channel, behaviors, autoconnect) {
  var r = window.recorder(clientId);
  faces.push.init(clientId, url, channel, r.onopen, r.onmessage, r.onerror, r.onclose,
                  behaviors, autoconnect);
};
