/* The inbox's live part: the tab title shows the unread count, and a new lead or message gives a
   browser notification while the page is open (once the rep allowed them). htmx does the polling. */
(function () {
  "use strict";
  var seen = null; // lead id -> unread count at the last look
  var baseTitle = document.title.replace(/^\(\d+\) /, "");

  function snapshot() {
    var now = {};
    document.querySelectorAll("#wl-inbox-rows tr[data-lead-id]").forEach(function (row) {
      now[row.dataset.leadId] = { unread: parseInt(row.dataset.unread || "0", 10), name: row.dataset.leadName };
    });
    return now;
  }

  function notify(text) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try { new Notification("WhatsApp leads", { body: text }); } catch (e) { /* not allowed here */ }
  }

  function refresh() {
    var summary = document.getElementById("wl-summary");
    var unread = summary ? parseInt(summary.dataset.unread || "0", 10) : 0;
    document.title = (unread ? "(" + unread + ") " : "") + baseTitle;
    var now = snapshot();
    if (seen !== null) {
      Object.keys(now).forEach(function (id) {
        var before = seen[id];
        if (!before) notify("New lead: " + now[id].name);
        else if (now[id].unread > before.unread) notify("New message from " + now[id].name);
      });
    }
    seen = now;
  }

  document.addEventListener("DOMContentLoaded", function () {
    refresh();
    var button = document.getElementById("wl-notify");
    if (button && "Notification" in window && Notification.permission === "default") {
      button.hidden = false;
      button.addEventListener("click", function () {
        Notification.requestPermission().then(function () { button.hidden = true; });
      });
    }
  });
  document.addEventListener("htmx:afterSettle", refresh);
})();
