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
  var truth = data.truth || { episodes: {}, trials: {} };
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

  // The truth view: the true graph, total effects, true action values, the Bayes exploit, posteriors, all entries.
  var svgNs = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    var node = document.createElementNS(svgNs, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    for (var i = 2; i < arguments.length; i++) { node.appendChild(typeof arguments[i] === "string" ? document.createTextNode(arguments[i]) : arguments[i]); }
    return node;
  }
  function graph(ep) {
    var names = ep.variables, n = names.length, size = 260, c = size / 2, r = 96, radius = 17;
    var at = {};
    names.forEach(function (v, i) {
      var angle = -Math.PI / 2 + 2 * Math.PI * i / n;
      at[v] = { x: c + r * Math.cos(angle), y: c + r * Math.sin(angle) };
    });
    var root = svg("svg", { "class": "truth-graph", width: size, height: size, viewBox: "0 0 " + size + " " + size, role: "img",
      "aria-label": "true graph: " + (ep.edges.map(function (e) { return e[0] + "→" + e[1] + " (" + (e[2] > 0 ? "+" : "") + e[2] + ")"; }).join(", ") || "no edges") });
    var defs = svg("defs");
    [["pos", "#1a7f37"], ["neg", "#b42318"]].forEach(function (m) {
      defs.appendChild(svg("marker", { id: "arrow-" + m[0], viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
        svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: m[1] })));
    });
    root.appendChild(defs);
    ep.edges.forEach(function (e) {
      var a = at[e[0]], b = at[e[1]];
      if (!a || !b) { return; }
      var dx = b.x - a.x, dy = b.y - a.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
      var kind = e[2] > 0 ? "pos" : "neg";
      var hidden = ep.hidden.indexOf(e[0]) >= 0;
      root.appendChild(svg("line", { "class": "edge " + kind + (hidden ? " hidden" : ""), "data-edge": e[0] + "→" + e[1],
        x1: a.x + dx / len * radius, y1: a.y + dy / len * radius, x2: b.x - dx / len * (radius + 2), y2: b.y - dy / len * (radius + 2),
        "marker-end": "url(#arrow-" + kind + ")" }));
      root.appendChild(svg("text", { "class": "weight " + kind, x: (a.x + b.x) / 2 + dy / len * 9, y: (a.y + b.y) / 2 - dx / len * 9 + 4 },
        (e[2] > 0 ? "+" : "−") + Math.abs(e[2])));
    });
    names.forEach(function (v) {
      var hidden = ep.hidden.indexOf(v) >= 0, target = v === ep.target;
      root.appendChild(svg("circle", { "class": "node" + (hidden ? " hidden" : "") + (target ? " target" : ""), cx: at[v].x, cy: at[v].y, r: radius }));
      root.appendChild(svg("text", { "class": "label", x: at[v].x, y: at[v].y + 4 }, v));
    });
    return root;
  }
  function table(head, rows, cls) {
    var h = el("tr");
    head.forEach(function (x) { h.appendChild(el("th", null, x)); });
    var body = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr", r.attrs || null);
      r.cells.forEach(function (x, i) { tr.appendChild(el("td", { "class": i >= (r.numFrom === undefined ? 1 : r.numFrom) ? "num" : null }, x)); });
      if (r.click) { tr.addEventListener("click", r.click); tr.classList.add("link"); }
      body.appendChild(tr);
    });
    return el("div", { "class": "table-wrap" }, el("table", { "class": cls }, el("thead", null, h), body));
  }
  function signed(x) { return (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(x).toFixed(Number.isInteger(x) ? 0 : 3); }
  function hypothesis(edges) {
    return edges.length ? edges.map(function (e) { var m = /^(.*)>(.*)([+-])$/.exec(e); return m ? m[1] + "→" + m[2] + " (" + (m[3] === "+" ? "+" : "−") + ")" : e; }).join(", ") : "(no edges)";
  }
  function truthView(t) {
    var ep = truth.episodes[t.task + "/" + t.episode];
    if (!ep) { return null; }
    var box = el("section", { "class": "truth", id: "truth-view" }, el("h4", null, "The truth behind " + t.task + " · " + t.episode));
    var top = el("div", { "class": "truth-top" }, el("figure", null, graph(ep), el("figcaption", null, "true graph (target " + ep.target + (ep.hidden.length ? "; hidden " + ep.hidden.join(", ") : "") + ")")));
    var obs = ep.observable;
    top.appendChild(el("div", null, el("h5", null, "Total effects TE[row → column]"),
      table([""].concat(obs), ep.total_effects.map(function (row, i) { return { cells: [obs[i]].concat(row.map(function (x, j) { return i === j ? "·" : signed(x); })) }; }), "truth-effects")));
    var exploit = (t.steps || []).filter(function (s) { return s.phase === "exploit"; })[0];
    var chosen = exploit && exploit.action ? action(exploit.action) : null;
    var bayes = exploit && exploit.bayes_exploit ? exploit.bayes_exploit.map(action) : [];
    var optimal = ep.optimal.map(action);
    top.appendChild(el("div", null, el("h5", null, "Exploit actions: true value"),
      table(["action", "value", ""], ep.actions.map(function (a) {
        var name = action(a), marks = [];
        if (optimal.indexOf(name) >= 0) { marks.push("optimal"); }
        if (bayes.indexOf(name) >= 0) { marks.push("Bayes"); }
        if (name === chosen) { marks.push("chosen"); }
        return { cells: [name, number(a.expected, 2), marks.join(" · ")], attrs: { "class": marks.indexOf("optimal") >= 0 ? "optimal" : null } };
      }), "truth-actions"),
      el("p", { "class": "muted" }, "optimal: " + optimal.join(", ") + (bayes.length ? " · Bayes exploit given this trial's evidence: " + bayes.join(", ") : ""))));
    box.appendChild(top);
    var posteriors = truth.trials[t.trial_id];
    if (posteriors) {
      box.appendChild(el("h5", null, "The ideal observer's most probable hypotheses"));
      var rows = [];
      posteriors.forEach(function (p) {
        var when = p.before_step === null ? "after the last step" : "before step " + p.before_step;
        p.top.forEach(function (h, k) {
          rows.push({ cells: [k === 0 ? when : "", k === 0 ? String(p.experiments) : "", h.p < 0.001 ? h.p.toExponential(1) : number(h.p, 3), hypothesis(h.edges)], numFrom: 9 });
        });
      });
      box.appendChild(table(["posterior", "own experiments seen", "probability", "hypothesis"], rows, "truth-posteriors"));
    }
    var same = trials.filter(function (x) { return x.task === t.task && x.episode === t.episode; });
    box.appendChild(el("h5", null, "Every embedded entry on this episode"));
    box.appendChild(table(["entry", "epoch", "experiments", "exploit", "normalized", "evidence value", "explore regret", "inference regret", "explore eff."],
      same.map(function (x) {
        var s = x.scores || {};
        var experiments = (x.steps || []).filter(function (st) { return st.phase === "explore"; }).map(function (st) { return st.action ? action(st.action) : st.status; }).join(" ");
        var ex = (x.steps || []).filter(function (st) { return st.phase === "exploit"; })[0];
        return { cells: [entryLabel(x), show(x.epoch), experiments || "—", ex && ex.action ? action(ex.action) : "—", number(s.normalized, 2), number(s.evidence_value, 2),
          number(s.exploration_regret, 2), number(s.inference_regret, 2), number(s.explore_efficiency, 2)],
          attrs: { "data-trial": x.trial_id, "class": x === t ? "selected" : null }, numFrom: 4,
          click: function () { location.hash = "trial=" + encodeURIComponent(x.trial_id); } };
      }), "truth-entries"));
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
    var view = truthView(t);
    if (view) { panel.appendChild(view); }
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
