// Keyboard use of the identifier queue, as the review queue's: j/k move between
// candidates, c confirms, u marks unsure, r goes to the reason box of the reject form
// (Enter then rejects), Esc leaves a box for the list.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.candidate-row"));
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

  function press(row, selector) {
    var button = row && row.querySelector(selector);
    if (button) { button.click(); }
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
      case "c": press(row, "button.confirm"); break;
      case "u": press(row, "button.unsure"); break;
      case "r":
        if (row) { row.querySelector(".reject-form input[name=reason]").focus(); }
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
