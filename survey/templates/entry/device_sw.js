/* The interviewer app's service worker (scope {{ assets.shell }}). It keeps the app shell —
   the page and its static files — for offline use, and nothing else: the JSON API (cases,
   personal data, answers) always goes to the network and is never cached. */
"use strict";
importScripts({{ assets.files["js/device-queue.js"]|tojson }});
var CACHE = "sipas-may-{{ version }}";
var SHELL = {{ assets.shell|tojson }};
var FILES = {{ assets.files.values()|list|tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(FILES).then(function () {
      return fetch(SHELL, {credentials: "same-origin", redirect: "manual"}).then(function (r) {
        if (r.ok && r.type === "basic") return cache.put(SHELL, r);
      });
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("sipas-may-") === 0 && n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") >= 0) return;
  if (request.mode === "navigate" && url.pathname === SHELL) {
    /* The page: from the network when it answers (a fresh shell, a sign-in redirect), else
       the kept copy. */
    event.respondWith(fetch(request).then(function (r) {
      if (r.ok && r.type === "basic") {
        var copy = r.clone();
        caches.open(CACHE).then(function (cache) { cache.put(SHELL, copy); });
        return r;
      }
      if (r.type === "opaqueredirect") return r;
      return caches.match(SHELL).then(function (kept) { return kept || r; });
    }, function () { return caches.match(SHELL); }));
    return;
  }
  if (FILES.indexOf(url.pathname + url.search) >= 0) {
    event.respondWith(caches.match(request).then(function (kept) { return kept || fetch(request); }));
  }
});

/* Background Sync (where the browser has it): send the queue when the network is back. */
self.addEventListener("sync", function (event) {
  if (event.tag === SipasQueue.SYNC_TAG) {
    event.waitUntil(SipasQueue.flush().then(function (summary) {
      return self.clients.matchAll().then(function (clients) {
        clients.forEach(function (c) { c.postMessage({type: "synced", summary: summary}); });
        if (summary.offline) throw new Error("offline: try again");
      });
    }));
  }
});
