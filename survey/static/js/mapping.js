/* The mapping page: the sample values follow the column chosen for each field. */
(function () {
  "use strict";
  var table = document.querySelector("table[data-samples]");
  if (!table) { return; }
  var samples = JSON.parse(table.getAttribute("data-samples"));
  table.addEventListener("change", function (event) {
    var cell = event.target.getAttribute && document.getElementById(event.target.getAttribute("data-sample-cell"));
    if (cell) { cell.textContent = (samples[event.target.value] || []).join(" · "); }
  });
})();
