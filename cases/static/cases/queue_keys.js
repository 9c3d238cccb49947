// Keyboard use of a work queue (the review queue, the identifier queue): j/k move between
// its rows (tr[data-queue-row]); any other key acts on the control of the current row that
// names it in data-key: a button is pressed, a checkbox ticked or unticked, a text box
// takes the focus (Enter then submits its form). Esc leaves a box for the list.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-queue-row]"));
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

  function act(control) {
    if (control.type === "checkbox") {
      control.checked = !control.checked;
    } else if (control.tagName === "BUTTON") {
      control.click();
    } else {
      control.focus();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); select(current < 0 ? 0 : current); }
      return;
    }
    if (event.key === "j") {
      select(current + 1);
    } else if (event.key === "k") {
      select(current - 1);
    } else {
      var row = rows[current];
      var control = row && event.key.length === 1 &&
        row.querySelector('[data-key="' + CSS.escape(event.key) + '"]');
      if (!control) { return; }
      act(control);
    }
    event.preventDefault();
  });

  rows.forEach(function (row, index) {
    row.addEventListener("click", function () { select(index); });
  });
  select(0);
})();
