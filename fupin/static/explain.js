// Education run page: "查看计算依据" fetches a line's explanation and shows it under the button.
document.addEventListener("click", function (e) {
  var b = e.target.closest("button.explain"); if (!b) return;
  var pre = b.nextElementSibling;
  fetch(b.dataset.url).then(function (r) { return r.json(); }).then(function (d) {
    var lines = [d.sentence, "", "计算过程：" + d.label + "：" + d.amount + " 元（" + d.date + "）"];
    (d.trace || []).forEach(function (x) { lines.push("· " + x); });
    pre.textContent = lines.join("\n"); pre.hidden = false; });
});
