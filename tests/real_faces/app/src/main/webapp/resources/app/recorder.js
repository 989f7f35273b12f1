/* The pages' <f:websocket> callbacks: each records what it was called with in
   window.pushLog, which the tests read (tests/browser/test_real_faces.py). */
window.pushLog = [];
function socketOpened(channel) { window.pushLog.push(["open", channel]); }
function messageReceived(message, channel) { window.pushLog.push(["message", channel, message]); }
function socketClosed(code, channel) { window.pushLog.push(["close", channel, code]); }
