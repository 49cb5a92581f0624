// First script of leaderboard.html: shows every script error and console.error on the page itself (and
// counts them in body[data-errors]), so that a reader sees a broken chart's reason and tests can check
// that there was none.
(function () {
  'use strict';
  var box = document.getElementById('lb-errors');
  function show(message) {
    var item = document.createElement('li');
    item.textContent = String(message);
    box.appendChild(item);
    box.hidden = false;
    document.body.setAttribute('data-errors', String(box.children.length));
  }
  window.lbReportError = show;
  window.addEventListener('error', function (e) {
    show((e.message || 'script error') + (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    show('unhandled rejection: ' + (r && r.message ? r.message : r));
  });
  var original = console.error;
  console.error = function () {
    show(Array.prototype.map.call(arguments, String).join(' '));
    return original.apply(console, arguments);
  };
})();
