// twice.html's second copy of the loader, unless ?once=1 (the one-copy baseline).
if (!new URLSearchParams(location.search).get("once")) {
  document.write('<script src="load-pypush.js"><\/script>');
}
