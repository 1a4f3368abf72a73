// Visit form on weak connections: keep the form, retry with the same token (the server records one visit).
(function () {
  var form = document.getElementById("visit"), status = document.getElementById("visit-status");
  if (!form) return;
  var key = "visit-draft-" + form.dataset.household;
  try { var draft = JSON.parse(localStorage.getItem(key) || "{}");
        ["done", "found", "minutes"].forEach(function (n) { if (draft[n]) form.elements[n].value = draft[n]; });
        if (draft.client_token) form.elements.client_token.value = draft.client_token; } catch (e) {}
  form.addEventListener("input", function () {
    localStorage.setItem(key, JSON.stringify({done: form.elements.done.value, found: form.elements.found.value,
      minutes: form.elements.minutes.value, client_token: form.elements.client_token.value}));
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var tries = 0;
    function send() {
      tries++;
      status.hidden = false; status.textContent = tries > 1 ? "网络不好，正在第 " + tries + " 次重试…" : "正在保存…";
      fetch(location.pathname, {method: "POST", body: new FormData(form), headers: {"X-Retry": "1"}})
        .then(function (r) { return r.json().then(function (d) { return {ok: r.ok, d: d}; }); })
        .then(function (x) {
          if (x.ok) { localStorage.removeItem(key); status.textContent = "已保存（编号 " + x.d.id + "）"; status.id = "visit-saved"; }
          else { status.className = "msg error"; status.textContent = x.d.error; }
        })
        .catch(function () { if (tries < 5) setTimeout(send, 2000 * tries); else status.textContent = "保存失败，内容已留在本机，稍后再试"; });
    }
    send();
  });
})();
