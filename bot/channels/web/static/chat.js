// Web chat. The server keeps the session in an HttpOnly cookie this script never sees; the
// page keeps only what it shows (the transcript, the last reply id, unsent messages) in
// localStorage, sends each message with its own id (so a retry is never stored twice), and
// polls for replies. "Clear" and an erasure (BORRAR) wipe the browser's copy and the cookie.
(function () {
  "use strict";
  var body = document.body;
  var lang = body.getAttribute("data-lang") || "es";
  var texts = JSON.parse(body.getAttribute("data-texts") || "{}");
  var log = document.getElementById("log");
  var intro = log.querySelector(".note");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var clearButton = document.getElementById("clear");
  var store = window.localStorage;
  var KEYS = ["after", "transcript", "outbox", "forget", "session"];  // "session": old pages

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function load(key, fallback) {
    try { var v = JSON.parse(store.getItem("hotline." + key)); return v === null ? fallback : v; }
    catch (e) { return fallback; }
  }
  function save(key, value) {
    try { store.setItem("hotline." + key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }
  function wipeStore() {
    KEYS.forEach(function (key) {
      try { store.removeItem("hotline." + key); } catch (e) { /* private mode */ }
    });
  }
  function post(path, payload) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload || {})
    });
  }

  try { store.removeItem("hotline.session"); } catch (e) { /* ids are the server's now */ }
  var after = load("after", 0);
  var transcript = load("transcript", []);
  var outbox = load("outbox", []);  // messages not yet acknowledged by the server
  var hasSession = true;  // until a poll says otherwise

  function bubble(who, text, state) {
    var p = document.createElement("p");
    p.className = "msg " + who;
    p.textContent = text;
    if (state) {
      var s = document.createElement("span");
      s.className = "state";
      s.textContent = state;
      p.appendChild(s);
    }
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
    return p;
  }
  function note(text) {
    var p = document.createElement("p");
    p.className = "note";
    p.textContent = text;
    log.appendChild(p);
    return p;
  }
  function showOptions(options) {
    var old = document.querySelector(".options");
    if (old) { old.remove(); }
    if (!options || !options.length) { return; }
    var box = document.createElement("div");
    box.className = "options";
    options.forEach(function (o) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = o.label;
      b.addEventListener("click", function () { box.remove(); send(o.value || o.label, o.label); });
      box.appendChild(b);
    });
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  transcript.forEach(function (m) { bubble(m.who, m.text); });
  outbox.forEach(function (m) { m.el = bubble("you", m.shown, texts.sending); });

  // Forget everything this browser holds about the conversation; `keep` stays on screen.
  var generation = 0;  // requests started before a wipe must not write into the new state
  function wipe(message, keep) {
    generation += 1;
    wipeStore();
    after = 0;
    transcript = [];
    outbox = [];
    while (log.firstChild) { log.removeChild(log.firstChild); }
    if (intro) { log.appendChild(intro); }
    (keep || []).forEach(function (text) { bubble("bot", text); });
    note(message);
  }
  // The cookie is HttpOnly: only the server can remove it. Until it has, remember to ask.
  function forgetSession() {
    save("forget", true);
    return post("/chat/session/end").then(function (r) {
      if (r.ok) { try { store.removeItem("hotline.forget"); } catch (e) { /* private mode */ } }
    }).catch(function () { /* asked again before the next message */ });
  }

  function send(text, shown) {
    var item = { id: randomId(), text: text, shown: shown || text };
    item.el = bubble("you", item.shown, texts.sending);
    outbox.push(item);
    persistOutbox();
    flush();
  }
  function persistOutbox() {
    save("outbox", outbox.map(function (m) { return { id: m.id, text: m.text, shown: m.shown }; }));
  }

  var flushing = false;
  var retryDelay = 1000;
  function retryLater(item) {
    var state = item.el.querySelector(".state");
    if (state) { state.textContent = navigator.onLine === false ? texts.offline : texts.not_sent; }
    flushing = false;
    setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }
  function flush() {
    if (flushing || !outbox.length) { return; }
    flushing = true;
    var item = outbox[0];
    var mine = generation;
    var ready = load("forget", false) ? forgetSession() : Promise.resolve();
    ready.then(function () {
      return post("/chat/messages", { id: item.id, text: item.text, lang: lang });
    }).then(function (r) {
      if (mine !== generation) { flushing = false; return; }
      if (r.status === 401) {  // no session yet (or it ended): ask for one, then send again
        return post("/chat/session").then(function (s) {
          if (!s.ok) { throw new Error("status " + s.status); }
          hasSession = true;
          flushing = false;
          flush();
        });
      }
      if (r.status !== 202) { throw new Error("status " + r.status); }
      hasSession = true;
      outbox.shift();
      persistOutbox();
      var state = item.el.querySelector(".state");
      if (state) { state.remove(); }
      transcript.push({ who: "you", text: item.shown });
      save("transcript", transcript.slice(-200));
      retryDelay = 1000;
      flushing = false;
      [300, 900, 1800].forEach(function (ms) { setTimeout(poll, ms); });  // replies come fast
      flush();
    }).catch(function () {
      if (mine !== generation) { flushing = false; return; }
      retryLater(item);
    });
  }

  var polling = false;
  function poll() {
    if (polling) { return; }
    polling = true;
    var mine = generation;
    fetch("/chat/messages?after=" + after, { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) { return { messages: [], session: false }; }
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.json();
      })
      .then(function (data) {
        if (mine !== generation) { return; }
        hasSession = data.session !== false;
        if (data.end) {  // the person's data was erased: keep only the last words on screen
          wipe(texts.ended, data.messages.map(function (m) { return m.text; }));
          hasSession = false;
          return;
        }
        data.messages.forEach(function (m) {
          bubble("bot", m.text);
          transcript.push({ who: "bot", text: m.text });
          after = Math.max(after, m.id);
          showOptions(m.options);
        });
        if (data.messages.length) {
          save("after", after);
          save("transcript", transcript.slice(-200));
        }
      })
      .catch(function () { /* try again at the next tick */ })
      .then(function () { polling = false; });
  }

  clearButton.addEventListener("click", function () {
    if (!window.confirm(texts.clear_confirm)) { return; }
    wipe(texts.cleared);
    hasSession = false;
    forgetSession();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });

  if (load("forget", false)) { forgetSession(); }
  flush();
  poll();
  setInterval(function () {
    if (!document.hidden && (hasSession || outbox.length)) { poll(); }
  }, 2000);
})();
