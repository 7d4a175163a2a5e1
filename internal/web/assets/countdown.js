// Counts down to the payment link's expiry and reloads the page when it
// passes, so the server shows the expired page. The page works without it.
(function () {
  "use strict";
  var el = document.querySelector("[data-expires]");
  if (!el) return;
  var end = Date.parse(el.getAttribute("data-expires"));
  if (isNaN(end)) return;
  function tick() {
    var left = Math.max(0, Math.round((end - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    el.textContent = "expires in " + m + ":" + (s < 10 ? "0" : "") + s;
    if (left === 0) {
      window.location.reload();
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
