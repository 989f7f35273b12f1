// Runs after the second copy: it must have kept the first one's faces.push and ready.
window.second = {
  samePush: faces.push === first.push,
  sameReady: pypush.ready === first.ready,
  samePypush: window.pypush === first.pypush,
};
initRecorded("after-second", params.get("url"), params.get("channel"), null, false);
faces.push.open("after-second");
faces.push.open("before-second");  // known to the first copy: no "Unknown clientId"
