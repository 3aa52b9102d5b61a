// Web chat: keeps a random session id and the transcript in localStorage, sends each
// message with its own id (so a retry is never stored twice), and polls for replies.
(function () {
  "use strict";
  var body = document.body;
  var lang = body.getAttribute("data-lang") || "es";
  var texts = JSON.parse(body.getAttribute("data-texts") || "{}");
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var store = window.localStorage;

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

  var session = load("session", null) || randomId();
  save("session", session);
  var after = load("after", 0);
  var transcript = load("transcript", []);
  var outbox = load("outbox", []);  // messages not yet acknowledged by the server

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
  function flush() {
    if (flushing || !outbox.length) { return; }
    flushing = true;
    var item = outbox[0];
    fetch("/chat/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session: session, id: item.id, text: item.text, lang: lang })
    }).then(function (r) {
      if (r.status !== 202) { throw new Error("status " + r.status); }
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
      var state = item.el.querySelector(".state");
      if (state) { state.textContent = navigator.onLine === false ? texts.offline : texts.not_sent; }
      flushing = false;
      setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  var polling = false;
  function poll() {
    if (polling) { return; }
    polling = true;
    fetch("/chat/messages?session=" + encodeURIComponent(session) + "&after=" + after)
      .then(function (r) { if (!r.ok) { throw new Error("status " + r.status); } return r.json(); })
      .then(function (data) {
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

  flush();
  poll();
  setInterval(function () { if (!document.hidden) { poll(); } }, 2000);
})();
