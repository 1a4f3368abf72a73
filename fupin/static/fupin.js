// Live search (results replace themselves as the officer types), revealing masked values, sortable tables.
(function () {
  var form = document.querySelector("form[data-live]");
  if (form) {
    var timer, results = document.getElementById("results");
    // POST, so an ID number typed here never appears in a URL (access logs, browser history)
    // typing: sent as the officer types, when ID digits are not searched yet (only on 查询 / Enter)
    var load = function (page, typing) {
      var data = new FormData(form);
      if (page) data.set("page", page);
      var headers = {"X-Partial": "1"};
      if (typing) headers["X-Typing"] = "1";
      fetch(form.dataset.live, {method: "POST", body: data, headers: headers})
        .then(function (r) { return r.text(); })
        .then(function (html) {
          results.innerHTML = html;
          var params = new URLSearchParams(data);
          params.delete("csrfmiddlewaretoken");
          if (/\d{4}/.test(params.get("q") || "")) params.delete("q");  // ID digits: not even in history
          history.replaceState(null, "", "?" + params);
        });
    };
    form.addEventListener("input", function () {
      clearTimeout(timer); timer = setTimeout(function () { load(null, true); }, 250); });
    form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
    results.addEventListener("click", function (e) {
      var a = e.target.closest("a[data-page]");
      if (a) { e.preventDefault(); load(a.dataset.page); }
    });
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button.reveal");
    if (!b) return;
    var span = b.parentNode.querySelector(".masked");
    var csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1];
    fetch(span.dataset.reveal, {method: "POST", headers: {"X-CSRFToken": csrf}})
      .then(function (r) { return r.json(); })
      .then(function (d) { span.textContent = d.value; b.remove(); });
  });
  // Any table.sortable (the board, a what-if result): click a header to sort by it, again to reverse.
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var asc = th.dataset.dir !== "asc";
        table.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
        th.dataset.dir = asc ? "asc" : "desc";
        var num = th.dataset.sort === "num";
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          var u = num ? parseFloat(x.dataset.value) : x.textContent, v = num ? parseFloat(y.dataset.value) : y.textContent;
          var c = num ? u - v : u.localeCompare(v, "zh-CN");
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
