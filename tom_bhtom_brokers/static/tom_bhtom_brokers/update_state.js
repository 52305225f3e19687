// While the target's update runs (in the background, or as a queued task), the tab reloads every few seconds so
// its statuses and figure follow the archives' answers; it stops once the page no longer says "running".
(function () {
  "use strict";
  var state = document.getElementById("bhtom-update-state");
  if (!state || !state.hasAttribute("data-reload-seconds")) {
    return;
  }
  window.setTimeout(function () {
    var url = new URL(window.location.href);
    url.searchParams.set("tab", "survey-light-curves");
    window.location.replace(url.toString());
  }, 1000 * Number(state.getAttribute("data-reload-seconds")));
}());
