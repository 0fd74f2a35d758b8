/* Gallery of the ieval report: filters, pagination, lazy images. Data is only ever set as text. */
(function () {
  "use strict";
  var items = JSON.parse(document.getElementById("gallery-data").textContent);
  var PAGE_SIZE = 24;
  var page = 0;
  var grid = document.getElementById("gallery-grid");
  var count = document.getElementById("gallery-count");
  var pageLabel = document.getElementById("gallery-page");
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function unique(key) {
    var seen = {};
    items.forEach(function (item) { if (item[key]) seen[item[key]] = true; });
    return Object.keys(seen).sort();
  }

  function fillSelect(select) {
    var key = select.getAttribute("data-filter");
    var values = unique(key);
    if (key === "status") {
      var failures = items.filter(function (i) { return i.failed; }).length;
      select.appendChild(new Option("failures only (" + failures + ")", "__failures__"));
    }
    values.forEach(function (value) { select.appendChild(new Option(value, value)); });
  }

  function matches(item) {
    return selects.every(function (select) {
      var key = select.getAttribute("data-filter");
      var wanted = select.value;
      if (!wanted) return true;
      if (wanted === "__failures__") return item.failed;
      return item[key] === wanted;
    });
  }

  function figure(label, src, lazy) {
    var fig = el("figure");
    if (src) {
      var img = el("img");
      if (lazy) img.loading = "lazy";
      img.decoding = "async";
      img.alt = label;
      img.src = src;
      fig.appendChild(img);
    } else {
      fig.appendChild(el("div", "no-image", "no image"));
    }
    fig.appendChild(el("figcaption", null, label));
    return fig;
  }

  function formatValue(value) {
    if (value === null || value === undefined) return "–";
    return Math.abs(value) >= 10 ? value.toFixed(2) : value.toFixed(4);
  }

  function traceBlock(item) {
    var details = el("details", "trace");
    details.appendChild(el("summary", null, "agent trace: " + item.trace.length + " steps"));
    var list = el("ol");
    item.trace.forEach(function (step) {
      var li = el("li", step.status === "ok" ? "step" : "step step-failed");
      li.appendChild(el("b", null, step.tool));
      li.appendChild(el("span", "step-status", " " + step.status + " · " + step.seconds.toFixed(2) + " s"));
      li.appendChild(el("code", null, step.arguments));
      if (step.message) li.appendChild(el("div", "step-message", step.message));
      if (step.image) li.appendChild(figure("after " + step.tool, step.image, true));
      list.appendChild(li);
    });
    details.appendChild(list);
    return details;
  }

  function card(item) {
    var node = el("article", item.failed ? "card failed" : "card");
    node.setAttribute("data-status", item.status);
    var head = el("header");
    head.appendChild(el("span", "editor", item.editor + (item.reference ? " (reference)" : "")));
    head.appendChild(el("span", "status status-" + (item.failed ? "failed" : "ok"), item.status));
    node.appendChild(head);
    node.appendChild(el("div", "meta", item.suite + " / " + item.sample + " · " + item.level + " · " + item.category));
    node.appendChild(el("p", "instruction", item.instruction));
    var row = el("div", "images");
    row.appendChild(figure("source", item.source));
    row.appendChild(figure("edited", item.edited));
    row.appendChild(figure("target", item.target));
    node.appendChild(row);
    if (item.error) node.appendChild(el("p", "error", item.error));
    var scores = el("ul", "scores");
    item.scores.forEach(function (score) {
      var text = score.metric + ": " + (score.status === "ok" ? formatValue(score.value) : score.status);
      scores.appendChild(el("li", score.status === "ok" ? null : "score-failed", text));
    });
    node.appendChild(scores);
    if (item.trace.length) node.appendChild(traceBlock(item));
    return node;
  }

  function render() {
    var shown = items.filter(matches);
    var pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    var slice = shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    while (grid.firstChild) grid.removeChild(grid.firstChild);
    slice.forEach(function (item) { grid.appendChild(card(item)); });
    count.textContent = shown.length + " of " + items.length + " items";
    pageLabel.textContent = "page " + (page + 1) + " of " + pages;
    document.getElementById("gallery-prev").disabled = page === 0;
    document.getElementById("gallery-next").disabled = page >= pages - 1;
  }

  selects.forEach(function (select) {
    fillSelect(select);
    select.addEventListener("change", function () { page = 0; render(); });
  });
  document.getElementById("gallery-prev").addEventListener("click", function () { page -= 1; render(); });
  document.getElementById("gallery-next").addEventListener("click", function () { page += 1; render(); });
  Array.prototype.forEach.call(document.querySelectorAll("[data-show-failures]"), function (button) {
    button.addEventListener("click", function () {
      selects.forEach(function (select) { select.value = ""; });
      document.getElementById("filter-status").value = "__failures__";
      var editor = button.getAttribute("data-editor");
      if (editor) document.getElementById("filter-editor").value = editor;
      page = 0;
      render();
      document.getElementById("gallery").scrollIntoView();
    });
  });
  render();
})();
