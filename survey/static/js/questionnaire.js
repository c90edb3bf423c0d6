/* Progressive enhancement only: the form works without this file. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-progress]");
  if (!form) { return; }
  var progress = form.querySelector(".progress");
  var button = form.querySelector("button[type=submit]");
  var groups = Array.prototype.slice.call(form.querySelectorAll("fieldset.q"));
  var lang = document.documentElement.lang;

  function update() {
    var done = groups.filter(function (g) { return g.querySelector("input:checked"); }).length;
    progress.hidden = false;
    progress.textContent = (lang === "en" ? "Answered " : "Đã trả lời ") + done + "/" + groups.length;
  }
  form.addEventListener("change", update);
  update();

  var summary = document.getElementById("loi");
  if (summary) { summary.focus(); }

  form.addEventListener("submit", function () {
    // One tap is enough; the server also ignores a second submit of the same form.
    window.setTimeout(function () { button.disabled = true; }, 0);
    button.textContent = lang === "en" ? "Sending…" : "Đang gửi…";
  });
})();
