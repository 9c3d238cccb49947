// Panels of the case page that follow work running behind it: the Checks panel while a
// check is queued or running, Kept evidence while a capture is on its way. Such a panel
// (a section with a data-poll URL) asks the server for itself every few seconds. Parts
// marked data-live-part are replaced one by one, keeping the forms around them (a file
// chosen to attach stays chosen); a panel without parts is replaced whole. Once the fresh
// panel has no data-poll, polling stops. Without this script a reload shows the same.
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var MAX_POLLS = 900; // half an hour: a worker that never answers is not asked forever

  function checksDone(section) {
    // "Check now" may start again; say how many leads wait on a reload (the Leads
    // section is not live).
    var button = document.querySelector("[data-check-now]");
    if (button) { button.disabled = false; }
    document.querySelectorAll("small[data-check-pending]").forEach(function (note) {
      note.remove();
    });
    var leads = parseInt(section.getAttribute("data-latest-leads") || "0", 10);
    if (leads > 0) {
      var line = document.createElement("p");
      line.setAttribute("data-check-done", "");
      var link = document.createElement("a");
      link.href = window.location.pathname + "#leads";
      link.textContent = "reload the page";
      link.addEventListener("click", function (event) {
        event.preventDefault();
        window.location.hash = "leads";
        window.location.reload();
      });
      line.append("The checks filed " + leads + " new lead" + (leads === 1 ? "" : "s") + ": ");
      line.append(link, " to review them.");
      section.append(line);
    }
  }

  var DONE = { checks: checksDone };

  function follow(id) {
    var polls = 0;

    function poll() {
      var section = document.getElementById(id);
      var url = section && section.getAttribute("data-poll");
      if (!url) { return; }
      polls += 1;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html; // our own template, escaped; this page runs no inline script
          var fresh = holder.querySelector("#" + id);
          if (!fresh) { return; }
          var parts = fresh.querySelectorAll("[data-live-part][id]");
          if (parts.length) {
            parts.forEach(function (part) {
              var old = document.getElementById(part.id);
              if (old) { old.replaceWith(part); }
            });
            if (fresh.getAttribute("data-poll")) {
              section.setAttribute("data-poll", fresh.getAttribute("data-poll"));
            } else {
              section.removeAttribute("data-poll");
            }
          } else {
            section.replaceWith(fresh);
            section = fresh;
          }
          if (section.getAttribute("data-poll")) {
            if (polls < MAX_POLLS) { window.setTimeout(poll, EVERY_MS); }
          } else if (DONE[id]) {
            DONE[id](section);
          }
        })
        .catch(function () {
          // Signed out, the server restarting: ask again a little later.
          if (polls < MAX_POLLS) { window.setTimeout(poll, EVERY_MS * 5); }
        });
    }

    window.setTimeout(poll, EVERY_MS);
  }

  document.querySelectorAll("section[data-poll][id]").forEach(function (section) {
    follow(section.id);
  });
})();
