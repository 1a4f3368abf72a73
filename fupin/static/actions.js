// Small page actions that used to be inline attributes (onchange=, href="javascript:…"), which the
// Content-Security-Policy forbids: elements name their action in data-* attributes instead.
(function () {
  document.addEventListener("click", function (e) {
    var a = e.target.closest("[data-action]");
    if (!a) return;
    if (a.dataset.action === "back") { e.preventDefault(); history.back(); }
    else if (a.dataset.action === "print") { e.preventDefault(); window.print(); }
  });
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
  });
  if (document.body.hasAttribute("data-autoprint") || document.querySelector("[data-autoprint]")) {
    if (window.print && window.matchMedia) setTimeout(function () { window.print(); }, 300);
  }
})();
