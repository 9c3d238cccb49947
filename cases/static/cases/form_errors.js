// A form that failed to save shows a banner (div[data-form-errors]) listing what failed,
// each linked to its field, possibly far down the page: bring the first field into view
// and focus it, and make the banner's links do the same (opening a closed <details>).
// The banner is sticky (app.css), so it stays in view beside the field.
(function () {
  "use strict";
  var banner = document.querySelector("[data-form-errors]");
  if (!banner) { return; }

  function fieldOf(link) {
    var id = decodeURIComponent(link.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && !target.matches("input, select, textarea, button")) {
      // a group of checkboxes or a table: focus its first control, if it has one
      target = target.querySelector("input, select, textarea, a") || target;
    }
    return target;
  }

  function reveal(field) {
    var details = field.closest("details");
    if (details && !details.open) { details.open = true; }
    field.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  }

  banner.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && fieldOf(link);
    if (!field) { return; }
    event.preventDefault();
    reveal(field);
  });

  var first = banner.querySelector("a[href^='#']");
  var field = first && fieldOf(first);
  if (field) { reveal(field); } else { banner.focus(); }
})();
