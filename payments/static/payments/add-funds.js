// The add-funds page: switches between the bank accounts' tabs in place, fills the amount from
// a quick pick, and watches for the money: it polls a small JSON endpoint and, when a newer
// credited deposit appears, turns "waiting" into "received" and shows the new balance. Every
// word and amount comes written from the server in the reader's language (the data-* texts,
// balance_text, credited_text): nothing is formatted here. Polling slows while the tab is hidden.
(function () {
  "use strict";

  var form = document.getElementById("amount-form");
  var chosen = document.getElementById("chosen-account");

  document.addEventListener("click", function (event) {
    var tab = event.target.closest(".bank-tab[data-account]");
    if (tab) {
      event.preventDefault();
      select(tab.getAttribute("data-account"));
      return;
    }
    var quick = event.target.closest(".quick-amounts [data-amount]");
    if (quick && form && form.elements.amount) {
      event.preventDefault();
      form.elements.amount.value = quick.getAttribute("data-amount");
      form.submit();
    }
  });

  function select(key) {
    document.querySelectorAll(".bank-tab[data-account]").forEach(function (tab) {
      var on = tab.getAttribute("data-account") === key;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", on ? "true" : "false");
    });
    document.querySelectorAll(".bank-panel").forEach(function (panel) {
      panel.hidden = panel.id !== "account-panel-" + key;
    });
    if (chosen) chosen.value = key;
    if (window.history && window.URL) {
      var url = new URL(window.location.href);
      url.searchParams.set("account", key);
      window.history.replaceState(null, "", url.toString());
    }
  }

  var watch = document.getElementById("deposit-watch");
  if (!watch || !window.fetch) return;
  var url = watch.getAttribute("data-status-url");
  var last = parseInt(watch.getAttribute("data-last"), 10) || 0;
  var doneText = watch.getAttribute("data-done-text");
  var waiting = document.getElementById("deposit-waiting");
  var done = document.getElementById("deposit-done");
  var stopped = false;
  waiting.hidden = false;

  function show(data) {
    document.getElementById("deposit-done-text").textContent = doneText
      .replace("%(amount)s", data.credited_text)
      .replace("%(balance)s", data.balance_text);
    waiting.hidden = true;
    done.hidden = false;
    var badge = document.querySelector(".topbar .balance");
    if (badge) badge.textContent = data.balance_text;
  }

  function poll() {
    if (stopped) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.last_deposit_id > last) {
          last = data.last_deposit_id;
          show(data);
        }
      })
      .catch(function () { /* offline for a moment: the next round tries again */ })
      .then(function () { setTimeout(poll, document.hidden ? 15000 : 4000); });
  }
  setTimeout(poll, 4000);
  window.addEventListener("pagehide", function () { stopped = true; });
})();
