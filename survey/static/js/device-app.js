/* The interviewer app: the list of assigned cases, the questionnaire rendered from the
   questions the server sent, outcomes, and the queue (device-queue.js) sent on open, when
   the network returns ('online'), on a timer and by Background Sync where the browser has it. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("app-config").textContent);
  var T = config.text, Q = self.SipasQueue, R = self.SipasRules;
  var state = {cases: [], queue: [], sent: [], rounds: [], outcomes: [], notices: []};
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "hidden") node.hidden = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function say(text, kind) {
    var m = $("message");
    m.textContent = text;
    m.className = "flash flash-" + (kind || "success");
    m.hidden = !text;
  }

  function newKey() {
    if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function load() {
    return Promise.all([Q.all("cases"), Q.all("queue"), Q.all("sent"), Q.get("meta", "rounds"),
                        Q.get("meta", "outcomes"), Q.get("meta", "notices")]).then(function (r) {
      state.cases = r[0]; state.queue = r[1]; state.sent = r[2];
      state.rounds = r[3] || []; state.outcomes = r[4] || []; state.notices = r[5] || [];
      render();
    });
  }

  function stateOf(c) {
    var queued = state.queue.filter(function (i) { return i.case_id === c.id; })[0];
    if (queued && queued.refused) return {cls: "refused", text: T.refused + ": " + queued.refused};
    if (queued) return {cls: "saved", text: T.saved_here};
    if (c.returned) return {cls: "todo", text: T.returned};
    return {cls: "todo", text: T.todo};
  }

  function render() {
    var waiting = state.queue.filter(function (i) { return !i.refused; }).length;
    $("waiting").textContent = T.waiting + ": " + waiting;
    $("waiting").setAttribute("data-count", String(waiting));
    $("net").textContent = navigator.onLine ? T.online : T.offline;
    var list = $("cases");
    list.textContent = "";
    if (!state.cases.length && !state.sent.length) list.appendChild(el("p", {"class": "muted", text: T.no_cases}));
    state.cases.slice().sort(function (a, b) { return a.serial < b.serial ? -1 : 1; }).forEach(function (c) {
      var s = stateOf(c), done = state.queue.some(function (i) { return i.case_id === c.id; });
      var dl = el("dl", {}, [
        el("dt", {text: T.dossier}), el("dd", {text: c.dossier}),
        el("dt", {text: T.procedure}), el("dd", {text: c.procedure || "–"}),
        el("dt", {text: T.place}), el("dd", {text: c.place}),
        el("dt", {text: T.name}), el("dd", {text: c.name || "–"}),
        el("dt", {text: T.phone_no}), el("dd", {}, [c.phone ? el("a", {href: "tel:" + c.phone, text: c.phone}) : el("span", {text: "–"})])
      ]);
      var actions = el("div", {"class": "dactions"}, done ? [] : [
        el("button", {type: "button", "class": "button small-button", "data-act": "interview", "data-case": c.id, text: T.interview}),
        el("button", {type: "button", "class": "button small-button secondary", "data-act": "outcome", "data-case": c.id, text: T.other_outcome})
      ]);
      list.appendChild(el("article", {"class": "dcase", "data-case": c.id, "data-serial": c.serial}, [
        el("h2", {}, [el("span", {text: T.serial + " " + c.serial + " "}), el("span", {"class": "dstate dstate-" + s.cls, text: s.text})]),
        dl, actions
      ]));
    });
    state.sent.slice().sort(function (a, b) { return a.at < b.at ? 1 : -1; }).forEach(function (m) {
      var cls = m.status === "recorded" || m.status === "accepted" ? "sent" : "conflict";
      list.appendChild(el("article", {"class": "dcase dcase-sent", "data-case": m.case_id, "data-serial": m.serial, "data-status": m.status}, [
        el("h2", {}, [el("span", {text: T.serial + " " + m.serial + " "}), el("span", {"class": "dstate dstate-" + cls, text: m.label || T.sent})]),
        m.message ? el("p", {"class": "error", text: m.message}) : null
      ]));
    });
    var notices = $("notices");
    notices.textContent = "";
    var shown = state.notices.filter(function (n) { return !state.sent.some(function (m) { return m.key === n.key; }); });
    if (shown.length) {
      notices.appendChild(el("h2", {text: T.notices}));
      shown.forEach(function (n) {
        notices.appendChild(el("p", {"class": "dcase", "data-status": n.status, text: T.serial + " " + n.serial + ": " + n.label + (n.message ? " — " + n.message : "")}));
      });
    }
  }

  function download() {
    return fetch(config.cases, {credentials: "same-origin", redirect: "manual", cache: "no-store"}).then(function (r) {
      if (r.type === "opaqueredirect") { say(T.login_needed, "warning"); return null; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (data) {
      if (!data) return;
      return Q.get("meta", "user_id").then(function (previous) {
        /* Another interviewer signed in on this device: the earlier one's cases leave it. */
        var clear = previous !== undefined && previous !== data.user_id ? Q.write(["cases", "sent"], function (s) { s.cases.clear(); s.sent.clear(); }) : Promise.resolve();
        return clear.then(function () { return Q.replaceCases(data); });
      }).then(function () { say(T.downloaded.replace("{n}", data.cases.length)); return load(); });
    }).catch(function () { say(T.download_failed, "warning"); });
  }

  function sync(quiet) {
    if (!navigator.onLine) { render(); return Promise.resolve(); }
    return Q.flush().then(function (summary) {
      return load().then(function () { return tell(summary, quiet); });
    });
  }

  /* What a flush did, told to the interviewer: this page's, or the service worker's (it sends
     the queue when the network is back, and then this page's own flush finds nothing left). */
  function tell(summary, quiet) {
    if (summary.login) say(T.login_needed, "warning");
    else if (summary.sent) {
      var conflict = state.sent.some(function (m) { return m.status === "conflict"; });
      say(conflict ? T.conflict_told : T.sent_n.replace("{n}", summary.sent), conflict ? "error" : "success");
      if (state.sent.some(function (m) { return m.replaced; })) return download();  /* the reserve comes down */
    } else if (!quiet && summary.refused) say(T.refused, "error");
  }

  function roundOf(c) { return state.rounds.filter(function (r) { return r.id === c.round_id; })[0]; }

  function modeField() {
    return el("fieldset", {"class": "dq", "data-code": "mode"}, [
      el("legend", {text: T.mode}),
      el("label", {"class": "opt"}, [el("input", {type: "radio", name: "mode", value: "face"}), el("span", {text: T.face})]),
      el("label", {"class": "opt"}, [el("input", {type: "radio", name: "mode", value: "phone"}), el("span", {text: T.phone})])
    ]);
  }

  function questionField(q, c) {
    var box = el("fieldset", {"class": "dq", "data-code": q.code}, [el("legend", {text: q.text + (q.required ? " *" : "")})]);
    if (q.options) {
      q.options.forEach(function (o, i) {
        box.appendChild(el("label", {"class": "opt"}, [el("input", {type: "radio", name: q.code, value: String(i)}), el("span", {text: o.label})]));
      });
    } else if (q.type === "text") {
      box.appendChild(el("textarea", {name: q.code, rows: "3", maxlength: String(q.max_length || 2000)}));
    } else {
      var input = el("input", {type: q.type === "date" ? "date" : "text", name: q.code});
      if (q.field === "procedure_code" && c.procedure) input.value = c.procedure;
      box.appendChild(input);
    }
    return box;
  }

  function answersOf(form, questions) {
    var answers = {};
    questions.forEach(function (q) {
      if (q.options) {
        var checked = form.querySelector("input[name='" + q.code + "']:checked");
        if (checked) answers[q.code] = q.options[+checked.value].code;
      } else {
        var v = form.elements[q.code].value;
        if (v !== "") answers[q.code] = v;
      }
    });
    return answers;
  }

  function showErrors(form, errors) {
    form.querySelectorAll(".dq").forEach(function (box) {
      var code = box.getAttribute("data-code"), old = box.querySelector(".error");
      if (old) old.remove();
      box.classList.toggle("has-error", !!errors[code]);
      if (errors[code]) box.appendChild(el("p", {"class": "error", text: T.errors[errors[code]] || errors[code]}));
    });
    var first = form.querySelector(".has-error");
    if (first) first.scrollIntoView({block: "center"});
  }

  function open(kind, c) {
    var round = roundOf(c);
    if (!round) return;
    var started = new Date().toISOString(), form = $("work-form");
    form.textContent = "";
    $("work-title").textContent = (kind === "interview" ? T.interview : T.other_outcome) + " — " + T.serial + " " + c.serial;
    $("work-case").textContent = (c.name || "") + (c.phone ? " · " + c.phone : "") + " · " + c.dossier;
    form.appendChild(modeField());
    if (kind === "interview") {
      var section = null;
      round.questions.forEach(function (q) {
        if (q.section !== section) { section = q.section; form.appendChild(el("h2", {"class": "dsection", text: section})); }
        form.appendChild(questionField(q, c));
      });
    } else {
      var select = el("select", {name: "outcome"}, [el("option", {value: "", text: T.choose})]);
      state.outcomes.filter(function (o) { return o.code !== "completed"; }).forEach(function (o) {
        select.appendChild(el("option", {value: o.code, text: o.label}));
      });
      form.appendChild(el("fieldset", {"class": "dq", "data-code": "outcome"}, [el("legend", {text: T.outcome}), select]));
      form.appendChild(el("fieldset", {"class": "dq", "data-code": "replacement_reason"}, [
        el("legend", {text: T.replace}), el("textarea", {name: "replacement_reason", rows: "2", maxlength: "300"})]));
    }
    form.appendChild(el("div", {"class": "submit-bar dactions"}, [
      el("button", {type: "submit", "class": "button", id: "save", text: kind === "interview" ? T.save_interview : T.save_outcome}),
      el("button", {type: "button", "class": "button secondary", id: "cancel", text: T.cancel})
    ]));
    form.onsubmit = function (event) {
      event.preventDefault();
      var mode = (form.querySelector("input[name=mode]:checked") || {}).value || null;
      var item = {key: newKey(), case_id: c.id, case_token: c.token, serial: c.serial, kind: kind, mode: mode,
                  started_at: started, ended_at: new Date().toISOString(), saved_at: new Date().toISOString()};
      var errors = {};
      if (kind === "interview") {
        item.answers = answersOf(form, round.questions);
        errors = R.validate(round.questions, item.answers, R.vietnamToday());
        if (!mode) errors.mode = "mode";
      } else {
        item.outcome = form.elements.outcome.value;
        item.replacement_reason = R.normalisedText(form.elements.replacement_reason.value) || null;
        if (!item.outcome) errors.outcome = "outcome";
      }
      if (Object.keys(errors).length) { showErrors(form, errors); say(T.fix_errors, "error"); return; }
      $("save").disabled = true;
      /* Written to IndexedDB (committed) before the interviewer is told it is saved. */
      Q.enqueue(item).then(function () {
        close();
        say(T.saved);
        registerSync();
        return load().then(function () { return sync(true); });
      }, function () { $("save").disabled = false; say(T.save_failed, "error"); });
    };
    /* "Quay lại" after answering something asks first: the answers are not kept. */
    var touched = false;
    form.oninput = form.onchange = function () { touched = true; };
    $("cancel").onclick = function () { if (!touched || window.confirm(T.discard)) close(); };
    $("list").hidden = true;
    $("work").hidden = false;
    window.scrollTo(0, 0);
  }

  function close() { $("work").hidden = true; $("list").hidden = false; }

  function registerSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) return reg.sync.register(Q.SYNC_TAG);
    }).catch(function () { /* no Background Sync: 'online', open and the timer do it */ });
  }

  function logout(event) {
    event.preventDefault();
    var form = $("logout-form");
    sync(true).then(function () { return Q.all("queue"); }).then(function (queue) {
      if (queue.length && !window.confirm(T.unsent_logout.replace("{n}", queue.length))) return;
      return Q.clearAll().then(function () {
        say(T.cleared);
        return Q.fetchToken().then(function (token) {
          if (token.login) { window.location.href = config.after_logout; return; }
          form.elements.csrf_token.value = token.csrf_token;
          form.submit();
        }, function () { return load(); });
      });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-act]");
    if (!button) return;
    var id = +button.getAttribute("data-case");
    var c = state.cases.filter(function (x) { return x.id === id; })[0];
    if (c) open(button.getAttribute("data-act"), c);
  });
  $("download").addEventListener("click", function () { sync(true).then(download); });
  $("send").addEventListener("click", function () { sync(false); });
  $("logout-form").addEventListener("submit", logout);
  window.addEventListener("online", function () { sync(true).then(render); });
  window.addEventListener("offline", render);
  setInterval(function () { if (state.queue.length) sync(true); }, 30000);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.worker, {scope: config.scope}).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "synced") load().then(function () { return tell(event.data.summary, true); });
    });
  }
  /* Ask the browser not to evict the queue under storage pressure (kept until sent). */
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
  /* On open: show what the device holds, send the queue, then refresh the cases. */
  load().then(function () { return navigator.onLine ? sync(true).then(download) : null; }).then(function () {
    document.body.setAttribute("data-ready", "1");
  });
})();
