// Hospital settlement window: the breakdown by payer is previewed live as the bill is typed.
(function () {
  var form = document.getElementById("bill"), timer;
  if (!form) return;
  function refresh() {
    fetch(form.dataset.preview, {method: "POST", body: new FormData(form)}).then(function (r) { return r.json(); }).then(function (d) {
      var err = document.getElementById("preview-error"), body = document.querySelector("#breakdown tbody");
      if (d.error) { err.textContent = d.error; err.hidden = false; body.innerHTML = ""; return; }
      err.hidden = true;
      body.textContent = "";   // built with DOM calls, never innerHTML: labels are text, not markup
      d.payers.forEach(function (p) {
        var tr = document.createElement("tr"), label = document.createElement("td"),
            amount = document.createElement("td"), why = document.createElement("td"), small = document.createElement("small");
        tr.dataset.rule = p.rule; label.textContent = p.label; amount.className = "amount"; amount.textContent = p.amount;
        label.dataset.label = "支付方"; amount.dataset.label = "金额（元）"; why.dataset.label = "依据";   // a card on a phone
        small.textContent = p.why; why.appendChild(small); tr.append(label, amount, why); body.appendChild(tr);
      });
    });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 200); });
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(refresh, 50); });
})();
