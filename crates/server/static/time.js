// Every <time datetime="…"> on a page, shown in the reader's own time zone
// and language with how long ago (or how far ahead) it is; the exact UTC
// instant stays on hover. Without scripts the exact instant is shown.
(function () {
  "use strict";
  var rel = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
               ["hour", 3600], ["minute", 60], ["second", 1]];
  function relative(ms) {
    var s = Math.round(ms / 1000);
    for (var i = 0; i < units.length; i++) {
      var u = units[i];
      if (Math.abs(s) >= u[1] || u[0] === "second") return rel.format(Math.round(s / u[1]), u[0]);
    }
    return "";
  }
  function show() {
    var now = Date.now();
    document.querySelectorAll("time[datetime]").forEach(function (t) {
      var exact = t.getAttribute("datetime");
      // Dates take at most milliseconds: cut microseconds before parsing.
      var d = new Date(exact.replace(/(\.\d{3})\d+/, "$1"));
      if (!exact || isNaN(d.getTime())) return;
      t.title = exact;
      t.textContent = fmt.format(d) + " (" + relative(d.getTime() - now) + ")";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
})();
