// The case list's bulk bar: the header box picks every case of the page, and the bar
// says how many are picked. Without script the boxes work one by one.
(function () {
  "use strict";
  const form = document.getElementById("bulk-form");
  if (!form) return;
  const boxes = () => Array.from(document.querySelectorAll('input[name="cases"][form="bulk-form"]'));
  const pageBox = document.getElementById("bulk-page");
  const all = document.getElementById("bulk-all");
  const count = document.getElementById("bulk-count");
  function update() {
    const picked = boxes().filter((box) => box.checked).length;
    if (all && all.checked) {
      count.textContent = "Every case of the filter:";
    } else {
      count.textContent = picked ? picked + " picked;" : "Pick cases with the boxes, or";
    }
    if (pageBox) pageBox.checked = picked > 0 && picked === boxes().length;
  }
  // Only the box the chosen action needs is shown (all of them without script).
  const action = document.getElementById("bulk_action");
  function showValue() {
    form.querySelectorAll(".bulk-value").forEach((span) => {
      span.hidden = !span.dataset.action.split(" ").includes(action.value);
    });
  }
  if (action) {
    action.addEventListener("change", showValue);
    showValue();
  }
  if (pageBox) {
    pageBox.addEventListener("change", () => {
      boxes().forEach((box) => { box.checked = pageBox.checked; });
      update();
    });
  }
  boxes().forEach((box) => box.addEventListener("change", update));
  if (all) all.addEventListener("change", update);
  update();
})();
