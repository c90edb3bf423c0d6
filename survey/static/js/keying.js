/* Keyboard-first entry of paper forms. Enhancement only: Tab and the submit button work
   without it. Enter moves to the next box; a one-key box moves on by itself once the typed
   key is allowed; a key that is not allowed is marked at once. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-keying]");
  if (!form) { return; }
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input.kinput, textarea.kinput"));

  function next(input) {
    var i = inputs.indexOf(input);
    if (i >= 0 && i + 1 < inputs.length) { inputs[i + 1].focus(); inputs[i + 1].select(); }
    else { form.querySelector("button[name=hoan-tat]").focus(); }
  }
  function check(input) {
    var keys = input.getAttribute("data-keys");
    var ok = !keys || input.value === "" || keys.split(" ").indexOf(input.value) >= 0;
    input.classList.toggle("bad", !ok);
    input.setAttribute("aria-invalid", ok ? "false" : "true");
    return ok;
  }
  inputs.forEach(function (input) {
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && input.tagName !== "TEXTAREA") { e.preventDefault(); next(input); }
    });
    input.addEventListener("input", function () {
      var keys = input.getAttribute("data-keys");
      if (check(input) && keys && input.value.length >= parseInt(input.getAttribute("maxlength") || "1", 10)) { next(input); }
    });
  });
  var first = form.querySelector(".has-error input") || inputs[0];
  if (first) { first.focus(); }
})();
