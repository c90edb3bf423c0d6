/* The interviewer app's validation: the same rules as survey/device/rules.py (`validate`),
   applied to the questions the server sends (derived from the questionnaire file).
   tests/browser/test_device_rules.py compares both on the same inputs. */
(function (root) {
  "use strict";
  var CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]/;
  var WHITESPACE = /[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+/g;
  var ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

  function normalisedText(value) {
    return value.normalize("NFC").replace(WHITESPACE, " ").replace(/^ +| +$/g, "");
  }

  function validDate(text) {
    var y = +text.slice(0, 4), m = +text.slice(5, 7), d = +text.slice(8, 10);
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    var days = [31, (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    return d <= days[m - 1];
  }

  function check(q, value, today) {
    if (value === null || value === undefined ||
        (typeof value === "string" && normalisedText(value) === "" && !CONTROL.test(value))) {
      return q.required ? "required" : null;
    }
    if (q.type === "scale" || q.type === "choice") {
      var codes = q.options.map(function (o) { return o.code; });
      if (typeof value !== typeof codes[0] || codes.indexOf(value) < 0) return "not_allowed";
      return null;
    }
    if (typeof value !== "string") return "not_allowed";
    if (CONTROL.test(value)) return "bad_characters";
    var text = normalisedText(value);
    if (q.type === "date") {
      if (!ISO_DATE.test(text) || !validDate(text)) return "date";
      return text > today ? "future_date" : null;
    }
    if (q.max_length && Array.from(text).length > q.max_length) return "too_long";
    if (q.pattern && !new RegExp(q.pattern).test(text)) return "pattern";
    return null;
  }

  /* Error code per question code ({} when valid); `today` is the Vietnam day, YYYY-MM-DD. */
  function validate(questions, answers, today) {
    var errors = {}, known = {};
    questions.forEach(function (q) { known[q.code] = true; });
    Object.keys(answers).forEach(function (code) { if (!known[code]) errors[code] = "unknown"; });
    questions.forEach(function (q) {
      var error = check(q, answers[q.code], today);
      if (error) errors[q.code] = error;
    });
    return errors;
  }

  /* Today in Vietnam (the server's `local_today`), whatever the phone's time zone. */
  function vietnamToday() {
    return new Intl.DateTimeFormat("en-CA", {timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit"}).format(new Date());
  }

  root.SipasRules = {validate: validate, normalisedText: normalisedText, vietnamToday: vietnamToday};
})(typeof self !== "undefined" ? self : this);
