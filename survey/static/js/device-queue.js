/* The interviewer app's durable store (IndexedDB), shared by the page and the service worker.

   Stores: meta (the signed-in interviewer, rounds and their questions, outcome labels),
   cases (the assigned open cases: the only personal data on the device), queue (finished
   interviews and outcomes not yet acknowledged by the server, each with its idempotency key),
   sent (what became of a sent item: form serial and status only, no personal data).
   An item is written to the queue before the interviewer is told it is saved; it leaves the
   queue, and its case leaves the device, only once the server has answered for its key. */
(function (root) {
  "use strict";
  var DB_NAME = "sipas-may", VERSION = 1, STORES = ["meta", "cases", "queue", "sent"];
  var API = {token: "/nhap-phieu/may/api/token", send: "/nhap-phieu/may/api/gui"};

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("meta");
        db.createObjectStore("cases", {keyPath: "id"});
        db.createObjectStore("queue", {keyPath: "key"});
        db.createObjectStore("sent", {keyPath: "case_id"});
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  /* Run `work(stores)` in one read-write transaction; resolves when it is committed to disk. */
  function write(names, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, "readwrite", {durability: "strict"});
        var stores = {};
        names.forEach(function (n) { stores[n] = tx.objectStore(n); });
        var result = work(stores);
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function all(name) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var request = db.transaction(name).objectStore(name).getAll();
        request.onsuccess = function () { db.close(); resolve(request.result); };
        request.onerror = function () { db.close(); reject(request.error); };
      });
    });
  }

  function get(name, key) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var request = db.transaction(name).objectStore(name).get(key);
        request.onsuccess = function () { db.close(); resolve(request.result); };
        request.onerror = function () { db.close(); reject(request.error); };
      });
    });
  }

  function enqueue(item) {
    return write(["queue"], function (s) { s.queue.put(item); });
  }

  function clearAll() {
    return write(STORES, function (s) { STORES.forEach(function (n) { s[n].clear(); }); });
  }

  /* The assigned open cases as downloaded: cases no longer assigned leave the device, except
     those with an item still in the queue (they leave once it is sent). */
  function replaceCases(data) {
    return all("queue").then(function (queue) {
      var waiting = {};
      queue.forEach(function (item) { waiting[item.case_id] = true; });
      return write(["meta", "cases", "sent"], function (s) {
        var keep = {};
        data.cases.forEach(function (c) { keep[c.id] = true; s.cases.put(c); });
        var cursor = s.cases.openCursor();
        cursor.onsuccess = function () {
          var c = cursor.result;
          if (!c) return;
          if (!keep[c.key] && !waiting[c.key]) c.delete();
          c.continue();
        };
        s.meta.put(data.user_id, "user_id");
        s.meta.put(data.rounds, "rounds");
        s.meta.put(data.outcomes, "outcomes");
        s.meta.put(data.notices, "notices");
        s.meta.put(new Date().toISOString(), "downloaded_at");
      });
    });
  }

  function fetchToken() {
    return fetch(API.token, {credentials: "same-origin", redirect: "manual", cache: "no-store"}).then(function (r) {
      if (r.type === "opaqueredirect" || r.status === 401 || r.status === 403) return {login: true};
      if (!r.ok) throw new Error("token " + r.status);
      return r.json();
    });
  }

  var flushing = null;
  var FLUSH_LOCK = "sipas-may-gui";

  /* Send every queued item, oldest first. Resolves {sent, refused, login, offline}. An item
     leaves the queue only on the server's answer for its key (stored or kept as a conflict);
     a refusal (the server will never take it as sent) is kept, marked, for the interviewer.
     The page and the service worker both flush (the network is back: 'online' in one,
     Background Sync in the other); a Web Lock makes them take turns, so each item goes out
     once (the second finds the queue emptied) instead of twice on a slow connection. Where
     the browser has no Web Locks (Chrome before 69, Safari before 15.4) both send; the key
     keeps it stored once. */
  function flush() {
    if (flushing) return flushing;
    var locks = root.navigator && root.navigator.locks;
    flushing = (locks ? locks.request(FLUSH_LOCK, sendQueue) : sendQueue()).finally(function () { flushing = null; });
    return flushing;
  }

  function sendQueue() {
    return all("queue").then(function (queue) {
      var pending = queue.filter(function (i) { return !i.refused; });
      pending.sort(function (a, b) { return a.saved_at < b.saved_at ? -1 : 1; });
      var summary = {sent: 0, refused: 0, login: false, offline: false};
      if (!pending.length) return summary;
      return fetchToken().then(function (token) {
        if (token.login) { summary.login = true; return summary; }
        var chain = Promise.resolve();
        pending.forEach(function (item) {
          chain = chain.then(function () {
            if (summary.login || summary.offline) return;
            return sendOne(item, token.csrf_token).then(function (outcome) {
              if (outcome === "sent") summary.sent += 1;
              else if (outcome === "refused") summary.refused += 1;
              else if (outcome === "login") summary.login = true;
              else summary.offline = true;
            });
          });
        });
        return chain.then(function () { return summary; });
      }, function () { summary.offline = true; return summary; });
    });
  }

  function sendOne(item, csrf) {
    var body = {
      key: item.key, case_token: item.case_token, kind: item.kind, outcome: item.outcome,
      answers: item.answers, mode: item.mode, replacement_reason: item.replacement_reason || null, started_at: item.started_at, ended_at: item.ended_at
    };
    return fetch(API.send, {
      method: "POST", credentials: "same-origin", redirect: "manual", cache: "no-store",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body)
    }).then(function (r) {
      if (r.type === "opaqueredirect") return "login";
      if (r.status === 200) {
        return r.json().then(function (notice) {
          return write(["queue", "cases", "sent"], function (s) {
            s.queue.delete(item.key);
            s.cases.delete(item.case_id);
            s.sent.put({case_id: item.case_id, serial: item.serial, key: item.key, status: notice.status,
                        label: notice.label, message: notice.message, replaced: !!notice.replaced, at: new Date().toISOString()});
          }).then(function () { return "sent"; });
        });
      }
      if (r.status === 400 || r.status === 403 || r.status === 410 || r.status === 422) {
        return r.json().catch(function () { return null; }).then(function (reply) {
          if (!reply || !reply.error) return "offline"; /* not our API's answer (a CSRF page): retry */
          item.refused = reply.error;
          item.errors = reply.errors || {};
          return enqueue(item).then(function () { return "refused"; });
        });
      }
      return "offline"; /* 5xx, a proxy's error page: try again later */
    }, function () { return "offline"; });
  }

  root.SipasQueue = {
    open: open, write: write, all: all, get: get, enqueue: enqueue, clearAll: clearAll,
    replaceCases: replaceCases, flush: flush, fetchToken: fetchToken, SYNC_TAG: "sipas-gui"
  };
})(typeof self !== "undefined" ? self : this);
