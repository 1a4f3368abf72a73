// The job page follows its job: it asks for the progress every 1.5 s and, once the job has
// finished, reloads to show the result. No inline script: the CSP allows only /static/.
(function () {
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "1") return;
  var bar = document.getElementById("job-progress");
  var stage = document.getElementById("job-stage");
  var status = document.getElementById("job-status");
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (s) {
      if (!s) return;
      if (s.finished) { window.location.reload(); return; }
      status.textContent = s.status_label;
      if (s.percent !== null) { bar.value = s.percent; bar.textContent = s.percent + "%"; }
      if (s.stage) stage.textContent = s.stage + "：" + s.done + (s.total ? " / " + s.total : "") + " 行";
      setTimeout(poll, 1500);
    }).catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
}());
