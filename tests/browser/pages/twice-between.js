// Runs between the two copies of the loader: calls queued through the first copy.
var params = new URLSearchParams(location.search);
window.first = { push: faces.push, ready: pypush.ready, pypush: window.pypush };
initRecorded("before-second", params.get("url"), params.get("channel"), null, true);
