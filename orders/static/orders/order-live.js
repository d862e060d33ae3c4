// The orders list and an order's page refresh themselves (orders/views/live.py): every few
// seconds while the tab is visible, they ask for the orders on screen that can still change and
// swap in the HTML of those whose version moved, as the server renders it (numbers stay in the
// reader's format). Asking stops once every order on screen is settled; the top-bar balance
// follows each answer.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-url]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-live-url");
  var view = root.getAttribute("data-live-view") || "";
  // Never faster than every 3 s, whatever the setting says.
  var every = Math.max(parseInt(root.getAttribute("data-live-seconds"), 10) || 10, 3) * 1000;
  var timer = null, asking = false;

  function open() {
    return Array.prototype.slice.call(root.querySelectorAll("[data-order][data-final='0']"));
  }

  function replace(element, item) {
    // Someone using the row's buttons keeps them: the next round brings the change.
    if (element.contains(document.activeElement)) return;
    var holder = document.createElement(element.tagName === "TR" ? "tbody" : "div");
    holder.innerHTML = item.html;
    var fresh = holder.firstElementChild;
    if (fresh) element.parentNode.replaceChild(fresh, element);
  }

  function apply(data) {
    open().forEach(function (element) {
      var item = data.orders[element.getAttribute("data-order")];
      if (!item) { element.setAttribute("data-final", "1"); return; }  // gone: ask no more
      if (item.version !== element.getAttribute("data-version")) replace(element, item);
      else if (item.settled) element.setAttribute("data-final", "1");
    });
    var badge = document.querySelector(".topbar .balance");
    if (badge && data.balance_text) badge.textContent = data.balance_text;
  }

  function schedule() {
    if (timer === null && !asking && !document.hidden && open().length) {
      timer = setTimeout(poll, every);
    }
  }

  function poll() {
    timer = null;
    var ids = open().map(function (element) { return element.getAttribute("data-order"); });
    if (!ids.length || document.hidden || asking) return;
    asking = true;
    var query = "?ids=" + ids.join(",") + "&view=" + view +
      "&next=" + encodeURIComponent(location.pathname + location.search);
    fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) apply(data); })
      .catch(function () { /* offline for a moment: the next round tries again */ })
      .then(function () { asking = false; schedule(); });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { clearTimeout(timer); timer = null; } else if (timer === null) poll();
  });
  schedule();
})();
