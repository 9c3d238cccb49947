// Keyboard use of the review queue: j/k move between leads, c confirms, r goes to the
// reason box of the reject form (Enter then rejects), x picks the lead for a bulk action.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.lead-row"));
  if (!rows.length) { return; }
  var current = -1;

  function select(index) {
    if (index < 0 || index >= rows.length) { return; }
    if (current >= 0) { rows[current].classList.remove("current"); }
    current = index;
    rows[current].classList.add("current");
    rows[current].focus();
  }

  function typing(target) {
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); select(current < 0 ? 0 : current); }
      return;
    }
    var row = rows[current];
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "c":
        if (row) { row.querySelector("button.confirm").click(); }
        break;
      case "r":
        if (row) { row.querySelector(".reject-form input[name=note]").focus(); }
        break;
      case "x":
        if (row) {
          var box = row.querySelector("input[type=checkbox]");
          if (box) { box.checked = !box.checked; }
        }
        break;
      default: return;
    }
    event.preventDefault();
  });

  rows.forEach(function (row, index) {
    row.addEventListener("click", function () { select(index); });
  });
  select(0);
})();
