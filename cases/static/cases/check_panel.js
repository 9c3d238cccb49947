// While a case's checks are queued or running, its Checks panel (section#checks with a
// data-poll URL) asks the server for itself every few seconds and replaces itself, until
// no source is pending. Then "Check now" is enabled again and, if the checks filed leads,
// a line says to reload for them (the Leads section is not live). No script is needed to
// use the page: without it, a reload shows the same.
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var MAX_POLLS = 900; // half an hour: a worker that never answers does not poll forever
  var polls = 0;

  function panel() { return document.getElementById("checks"); }

  function finished(section) {
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

  function poll() {
    var section = panel();
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
        holder.innerHTML = html;
        var fresh = holder.querySelector("#checks");
        if (!fresh) { return; }
        section.replaceWith(fresh);
        if (fresh.getAttribute("data-poll")) {
          if (polls < MAX_POLLS) { window.setTimeout(poll, EVERY_MS); }
        } else {
          finished(fresh);
        }
      })
      .catch(function () {
        // Signed out, the server restarting: try again a little later, a few times.
        if (polls < MAX_POLLS) { window.setTimeout(poll, EVERY_MS * 5); }
      });
  }

  if (panel() && panel().getAttribute("data-poll")) { window.setTimeout(poll, EVERY_MS); }
})();
