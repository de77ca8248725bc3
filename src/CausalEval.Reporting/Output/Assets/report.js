"use strict";
(function () {
  // Sortable tables: click a header to sort by that column (numbers by their leading value).
  function sortValue(cell) {
    var text = (cell.getAttribute("data-sort") || cell.textContent || "").trim();
    var number = parseFloat(text.replace(/[−–]/g, "-").replace(/[$,%]/g, ""));
    return isNaN(number) ? text.toLowerCase() : number;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, column) {
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = sortValue(a.cells[column]), y = sortValue(b.cells[column]);
          if (typeof x !== typeof y) { x = String(x); y = String(y); }
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  // Episode browser.
  var dataElement = document.getElementById("report-data");
  if (!dataElement) { return; }
  var data = JSON.parse(dataElement.textContent);
  var trials = data.transcripts;
  var byId = {};
  trials.forEach(function (t) { byId[t.trial_id] = t; });
  var filters = ["task", "model", "prompt_variant", "naming", "episode"];
  var selects = {};
  var list = document.getElementById("trial-list");
  var count = document.getElementById("trial-count");
  var panel = document.getElementById("transcript");
  var maxListed = 500;
  var selected = null;

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { if (attrs[k] !== null && attrs[k] !== undefined) { node.setAttribute(k, attrs[k]); } }); }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) { continue; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }
  function show(value) { return value === null || value === undefined ? "—" : String(value); }
  function number(value, digits) { return typeof value === "number" ? value.toFixed(digits === undefined ? 3 : digits) : "—"; }
  function action(a) { return a ? "do(" + a.variable + " = " + a.value + ")" : "—"; }
  function move(m) { return m ? (m.kind === "transform" ? "transform(" + m.object + ", " + m.dimension + ")" : "pick(" + m.object + ")") : "—"; }
  // Odd-one-out: the trial's objects as a table, the moved or picked object marked.
  function objects(list, marked) {
    var head = el("tr", null, el("th", null, "object"), el("th", null, "colour"), el("th", null, "texture"), el("th", null, "shape"));
    var body = el("tbody");
    list.forEach(function (o) {
      body.appendChild(el("tr", { "class": o.name === marked ? "marked" : null },
        el("td", null, o.name), el("td", null, show(o.colour)), el("td", null, show(o.texture)), el("td", null, show(o.shape))));
    });
    return el("table", { "class": "objects" }, el("thead", null, head), body);
  }
  function values(o) { return o ? Object.keys(o).map(function (k) { return k + " = " + o[k]; }).join(",  ") : "—"; }
  function entryLabel(t) {
    var parts = [t.prompt_variant, t.naming].filter(function (x) { return x; });
    return t.model + (parts.length ? " [" + parts.join(" · ") + "]" : "");
  }

  filters.forEach(function (name) {
    var select = document.getElementById("f-" + name);
    selects[name] = select;
    var seen = {};
    trials.forEach(function (t) { seen[show(t[name])] = true; });
    select.appendChild(el("option", { value: "" }, "all"));
    Object.keys(seen).sort().forEach(function (v) { select.appendChild(el("option", { value: v }, v)); });
    select.addEventListener("change", function () { renderList(); });
  });

  function matches(t) {
    return filters.every(function (name) { var v = selects[name].value; return v === "" || show(t[name]) === v; });
  }

  function renderList() {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var shown = trials.filter(matches);
    shown.slice(0, maxListed).forEach(function (t) {
      var score = t.scores ? number(t.scores.normalized, 2) : "error";
      var item = el("li", { "data-trial": t.trial_id, "class": t === selected ? "selected" : null },
        el("span", { "class": "score" }, score),
        t.task + " · " + t.episode + " · e" + t.epoch, el("br"), entryLabel(t));
      item.addEventListener("click", function () { location.hash = "trial=" + encodeURIComponent(t.trial_id); });
      list.appendChild(item);
    });
    count.textContent = shown.length + " of " + trials.length + " embedded transcripts match" +
      (shown.length > maxListed ? " (first " + maxListed + " listed; narrow the filters)" : "");
  }

  function field(label, content, cls) {
    if (content === null || content === undefined) { return null; }
    return el("div", { "class": "field" }, el("span", { "class": "label" }, label), typeof content === "string" ? el("span", { "class": cls || null }, content) : content);
  }

  function messages(m) {
    if (m === null || m === undefined) { return null; }
    var items = Array.isArray(m) ? m : [m];
    var body = el("div");
    items.forEach(function (msg) {
      if (msg && typeof msg === "object" && "content" in msg) {
        var content = typeof msg.content === "string" ? msg.content : JSON.stringify(msg.content, null, 2);
        body.appendChild(el("div", { "class": "msg" }, el("div", { "class": "role" }, show(msg.role)), el("pre", null, content)));
      } else {
        body.appendChild(el("pre", null, typeof msg === "string" ? msg : JSON.stringify(msg, null, 2)));
      }
    });
    return el("details", { "class": "prompt" }, el("summary", null, "prompt: " + items.length + " message" + (items.length === 1 ? "" : "s")), body);
  }

  var known = ["index", "phase", "status", "action", "edges", "observation", "error", "raw_answer", "parse_error", "rationale", "usage", "messages", "prompt", "lenient_action", "lenient_edges", "latency_ms",
    "move", "lenient_move", "objects", "correct"];

  function step(s) {
    var box = el("div", { "class": "step phase-" + s.phase + " status-" + s.status },
      el("h4", null, "Step " + s.index + " · " + s.phase + " · " + s.status));
    [messages(s.messages), s.prompt ? field("prompt", el("pre", null, String(s.prompt))) : null,
      s.raw_answer !== undefined ? field("raw answer", el("pre", null, show(s.raw_answer))) : null,
      s.move !== undefined ? field("parsed move", move(s.move), "action")
        : field("parsed action", s.phase === "structure" ? (s.edges ? s.edges.join(", ") || "(no edges)" : "—") : action(s.action), "action"),
      s.lenient_move !== undefined ? field("lenient parse", move(s.lenient_move)) : null,
      s.objects ? field("objects", objects(s.objects, s.move ? s.move.object : null)) : null,
      s.correct !== undefined && s.correct !== null ? field("outcome", s.correct ? "correct" : "incorrect", s.correct ? null : "error") : null,
      s.lenient_action !== undefined ? field("lenient parse", s.lenient_action && s.lenient_action.variable !== undefined ? action(s.lenient_action) : "—") : null,
      s.lenient_edges !== undefined ? field("lenient parse", s.lenient_edges ? s.lenient_edges.join(", ") || "(no edges)" : "—") : null,
      s.observation ? field("observation", values(s.observation)) : null,
      s.error ? field("error", s.error, "error") : null,
      s.parse_error ? field("parse error", s.parse_error, "error") : null,
      s.rationale ? field("rationale", el("pre", null, s.rationale)) : null,
      s.usage ? field("usage", s.usage.input_tokens + " in / " + s.usage.output_tokens + " out tokens") : null,
      s.latency_ms !== undefined ? field("latency", number(s.latency_ms, 1) + " ms") : null
    ].forEach(function (n) { if (n) { box.appendChild(n); } });
    Object.keys(s).filter(function (k) { return known.indexOf(k) < 0; }).forEach(function (k) {
      box.appendChild(field(k, el("pre", null, typeof s[k] === "string" ? s[k] : JSON.stringify(s[k], null, 2))));
    });
    return box;
  }

  function renderTrial(t) {
    selected = t;
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    if (!t) { panel.appendChild(el("p", null, "Choose a trial on the left.")); panel.removeAttribute("data-trial"); return; }
    panel.setAttribute("data-trial", t.trial_id);
    panel.appendChild(el("h3", null, t.task + " · " + t.episode + " — " + entryLabel(t)));
    var meta = el("dl", { "class": "meta" });
    [["trial", t.trial_id], ["model", t.model], ["prompt variant", show(t.prompt_variant)], ["naming", show(t.naming)],
      ["epoch", show(t.epoch)], t.concept !== undefined ? ["concept", show(t.concept)] : ["target", show(t.target)], ["tokens", t.usage ? t.usage.input_tokens + " in / " + t.usage.output_tokens + " out" : "—"],
      ["cost", typeof t.cost === "number" ? "$" + t.cost.toFixed(4) : "—"], ["latency", number(t.latency_ms, t.latency_ms < 1 ? 3 : 1) + " ms"]].forEach(function (p) {
      meta.appendChild(el("dt", null, p[0])); meta.appendChild(el("dd", null, p[1]));
    });
    panel.appendChild(meta);
    if (t.error) { panel.appendChild(el("p", { "class": "error" }, "trial error: " + (t.error.kind || "") + ": " + (t.error.message || ""))); }
    if (t.scores) {
      var names = Object.keys(t.scores);
      var head = el("tr"), row = el("tr");
      names.forEach(function (k) {
        head.appendChild(el("th", { "class": "num" }, k));
        row.appendChild(el("td", { "class": "num" }, typeof t.scores[k] === "number" && !Number.isInteger(t.scores[k]) ? number(t.scores[k]) : show(t.scores[k])));
      });
      panel.appendChild(el("div", { "class": "table-wrap" }, el("table", { "class": "scores" }, el("thead", null, head), el("tbody", null, row))));
    }
    (t.steps || []).forEach(function (s) { panel.appendChild(step(s)); });
    Array.prototype.forEach.call(list.children, function (li) { li.classList.toggle("selected", li.getAttribute("data-trial") === t.trial_id); });
  }

  function fromHash() {
    var match = /(?:^#|&)trial=([^&]+)/.exec(location.hash);
    var t = match ? byId[decodeURIComponent(match[1])] : null;
    if (t) {
      if (!matches(t)) { filters.forEach(function (name) { selects[name].value = ""; }); selects.task.value = show(t.task); }
      renderList();
      renderTrial(t);
      document.getElementById("episodes").scrollIntoView();
      return;
    }
    renderList();
    renderTrial(selected || trials.filter(matches)[0] || null);
  }

  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.body.setAttribute("data-ready", "true");
})();
