// Live search (results replace themselves as the officer types) and revealing masked values.
(function () {
  var form = document.querySelector("form[data-live]");
  if (form) {
    var timer, results = document.getElementById("results");
    // POST, so an ID number typed here never appears in a URL (access logs, browser history)
    var load = function (page) {
      var data = new FormData(form);
      if (page) data.set("page", page);
      fetch(form.dataset.live, {method: "POST", body: data, headers: {"X-Partial": "1"}})
        .then(function (r) { return r.text(); })
        .then(function (html) {
          results.innerHTML = html;
          var params = new URLSearchParams(data);
          params.delete("csrfmiddlewaretoken");
          if (/\d{4}/.test(params.get("q") || "")) params.delete("q");  // ID digits: not even in history
          history.replaceState(null, "", "?" + params);
        });
    };
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(load, 250); });
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
})();
