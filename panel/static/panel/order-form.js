/* The new-order form: services per category (loaded as JSON), the inputs each service type
 * uses, line counts and a charge estimate. Without this script every input stays visible and
 * the order service ignores the ones the chosen type does not use.
 *
 * The estimate is display only, computed in integer micro-units (6 decimal places, as the
 * panel stores money) so it never shows float noise; the server computes the real charge. */
(function () {
  "use strict";

  var form = document.getElementById("order-form");
  if (!form) return;
  var layouts = JSON.parse(document.getElementById("type-layouts").textContent);
  var select = document.getElementById("id_service");
  var category = document.getElementById("category");
  var search = document.getElementById("service-search");
  var filterForm = document.getElementById("service-filter");
  var drip = document.getElementById("dripfeed");
  var dripGroup = form.querySelector("[data-group=dripfeed]");
  var info = document.getElementById("service-info");
  var estimateCard = document.getElementById("estimate-card");
  var estimate = document.getElementById("estimate");
  var estimateDetail = document.getElementById("estimate-detail");
  var estimateInline = document.getElementById("estimate-inline");
  // Words and number format in the reader's language (orders.views._order_script_text).
  var words = JSON.parse(document.getElementById("order-form-text").textContent);
  var currency = words.currency;
  var optionsUrl = form.getAttribute("data-options-url");
  var MICRO = 1000000n;

  var usernameHelp = {
    "Subscriptions": words.helpSubscriptions,
    "Mentions User Followers": words.helpFollowers,
    "Comment Likes": words.helpCommentLikes
  };

  function say(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  }

  function grouped(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, words.group);
  }

  // A plain decimal ("1234.5") written as the language writes money: at least the currency's
  // decimals, every significant one kept (as core.money.amount_text does).
  function shown(plain) {
    var parts = String(plain).split(".");
    var fraction = (parts[1] || "").padEnd(Number(words.places), "0");
    return grouped(parts[0]) + (fraction ? words.decimal + fraction : "");
  }

  function shownMoney(plain) {
    return shown(plain) + " " + currency;
  }

  function field(name) {
    return form.elements.namedItem(name);
  }

  function current() {
    return select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
  }

  function layoutOf(option) {
    return option && option.value ? layouts[option.getAttribute("data-type")] || null : null;
  }

  function setVisible(wrapper, visible) {
    if (!wrapper) return;
    wrapper.hidden = !visible;
    // Hidden inputs are disabled so they are not sent: drip-feed runs left from another
    // service would otherwise be refused by a service without drip-feed.
    wrapper.querySelectorAll("input, textarea, select").forEach(function (input) {
      if (input.id !== "dripfeed") input.disabled = !visible;
    });
  }

  function countLines(text) {
    return text.split(/\r?\n/).filter(function (line) { return line.trim() !== ""; }).length;
  }

  function wholeNumber(name) {
    var input = field(name);
    var text = input && !input.disabled ? input.value.trim() : "";
    return /^\d+$/.test(text) ? BigInt(text) : null;
  }

  function micro(text) {
    var match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(text || "");
    if (!match) return null;
    return BigInt(match[1]) * MICRO + BigInt((match[2] || "").padEnd(6, "0"));
  }

  // An amount (not a rate) is shown rounded half up to the currency's places, as
  // core.money.amount_text does; the server still charges the exact value.
  function money(units) {
    var step = 10n ** BigInt(6 - Math.min(Number(words.places), 6));
    units = (units + step / 2n) / step * step;
    var fraction = (units % MICRO).toString().padStart(6, "0").replace(/0+$/, "");
    return shownMoney((units / MICRO).toString() + (fraction ? "." + fraction : ""));
  }

  function dripfeedAvailable(option, layout) {
    return !!(layout && layout.dripfeed && option.getAttribute("data-dripfeed") === "1");
  }

  function applyLayout() {
    var option = current();
    var layout = layoutOf(option);
    var fields = layout ? layout.fields : [];
    form.querySelectorAll("[data-field]").forEach(function (wrapper) {
      var name = wrapper.getAttribute("data-field");
      if (name === "dripfeed") {
        setVisible(wrapper, dripfeedAvailable(option, layout));
      } else if (name !== "runs" && name !== "interval") {
        setVisible(wrapper, fields.indexOf(name) !== -1);
      }
    });
    setVisible(dripGroup, dripfeedAvailable(option, layout) && drip.checked);
    var help = form.querySelector("[data-help-for=username]");
    if (help && layout) help.textContent = usernameHelp[option.getAttribute("data-type")] || "";
    var quantityHelp = form.querySelector("[data-help-for=quantity]") || addHelp("quantity");
    if (quantityHelp && option && option.value) {
      var step = option.getAttribute("data-step");
      quantityHelp.textContent = say(words.minMax, { min: grouped(option.getAttribute("data-min")), max: grouped(option.getAttribute("data-max")) }) +
        (step && step !== "1" ? " · " + say(words.multipleOf, { step: step }) : "");
    }
    renderInfo(option);
    updateEstimate();
  }

  function addHelp(name) {
    var wrapper = form.querySelector("[data-field=" + name + "]");
    if (!wrapper) return null;
    var help = document.createElement("span");
    help.className = "help";
    help.setAttribute("data-help-for", name);
    wrapper.appendChild(help);
    return help;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderInfo(option) {
    info.textContent = "";
    var title = element("h3", "", words.service);
    title.style.marginTop = "0";
    info.appendChild(title);
    if (!option || !option.value) {
      info.appendChild(element("p", "muted", words.choose));
      return;
    }
    var name = element("div");
    name.appendChild(element("strong", "", option.getAttribute("data-name")));
    name.appendChild(document.createTextNode(" "));
    name.appendChild(element("span", "muted", "#" + option.value));
    info.appendChild(name);
    if (option.getAttribute("data-category")) {
      var where = element("div", "muted");
      where.appendChild(element("span", "pdot pf-" + option.getAttribute("data-platform")));
      where.appendChild(document.createTextNode(" " + option.getAttribute("data-category")));
      info.appendChild(where);
    }
    var badges = element("div", "badges");
    var type = option.getAttribute("data-type");
    if (type !== "Default") badges.appendChild(element("span", "badge info", option.getAttribute("data-type-label") || type));
    // data-refill carries the badge's words ("Bảo hành 30 ngày"); "1" from older markup.
    var refill = option.getAttribute("data-refill");
    if (refill) badges.appendChild(element("span", "badge ok", refill === "1" ? words.refill : refill));
    if (option.getAttribute("data-cancel")) badges.appendChild(element("span", "badge warn", words.cancel));
    if (option.getAttribute("data-dripfeed")) badges.appendChild(element("span", "badge", words.dripfeed));
    info.appendChild(badges);
    var facts = element("dl", "facts");
    facts.style.marginTop = "8px";
    // The server's words: "12.500 ₫ / 1000", "12,5 ₫ mỗi lượt" (providers.views.price_texts).
    [[words.rate, option.getAttribute("data-price")],
     [words.limits, grouped(option.getAttribute("data-min")) + " / " + grouped(option.getAttribute("data-max"))],
     [info.getAttribute("data-label-usual-time"), option.getAttribute("data-usual-time")],
     [info.getAttribute("data-label-slow-time"), option.getAttribute("data-slow-time")],
     [info.getAttribute("data-label-partial-rate"), option.getAttribute("data-partial-rate")],
     option.getAttribute("data-refill") ? [info.getAttribute("data-label-refill-rate"), option.getAttribute("data-refill-rate")] : null
    ].forEach(function (pair) {
      if (!pair) return;
      facts.appendChild(element("dt", "", pair[0]));
      facts.appendChild(element("dd", "", pair[1]));
    });
    var unitPrice = option.getAttribute("data-unit-price");
    if (unitPrice) facts.querySelector("dd").appendChild(element("span", "sub", unitPrice));
    info.appendChild(facts);
    info.appendChild(element("p", "help", info.getAttribute("data-note-scorecard")));
    var desc = option.getAttribute("data-desc");
    if (desc) info.appendChild(element("div", "desc", desc));
  }

  function chargedUnits(option, layout) {
    if (layout.package) return { units: 1n, text: words.onePackage, flat: true };
    if (layout.subscription) {
      var max = wholeNumber("max"), posts = wholeNumber("posts");
      if (max === null || posts === null) return null;
      return { units: max * posts, text: say(words.maxPosts, { max: grouped(max.toString()), posts: posts }) };
    }
    if (layout.counted) {
      var lines = BigInt(countLines(field(layout.counted).value));
      return lines > 0n ? { units: lines, text: say(words.lines, { n: grouped(lines.toString()) }) } : null;
    }
    var quantity = wholeNumber("quantity");
    if (quantity === null) return null;
    var runs = dripfeedAvailable(option, layout) && drip.checked ? wholeNumber("runs") : null;
    if (runs !== null && runs > 1n) return { units: quantity * runs, text: say(words.runs, { quantity: grouped(quantity.toString()), runs: runs }) };
    return { units: quantity, text: grouped(quantity.toString()) };
  }

  function updateEstimate() {
    var option = current();
    var layout = layoutOf(option);
    var rate = option ? micro(option.getAttribute("data-rate")) : null;
    estimateCard.hidden = false;
    var charged = layout && rate !== null ? chargedUnits(option, layout) : null;
    estimateInline.hidden = !charged;
    if (!charged) {
      showShortfall(0n);
      estimate.textContent = "—";
      estimateDetail.textContent = !layout ? ""
        : layout.subscription ? words.needPosts
        : layout.counted ? words.needLines
        : words.needQuantity;
      return;
    }
    // rate × units / 1000, rounded half up at 6 places, as orders/pricing.py does.
    var total = charged.flat ? rate : (rate * charged.units + 500n) / 1000n;
    showShortfall(total);
    estimate.textContent = money(total);
    estimateInline.textContent = say(words.estimated, { amount: estimate.textContent });
    var unit = option.getAttribute("data-unit-price");
    estimateDetail.textContent = charged.flat
      ? say(words.ratePerPackage, { rate: shownMoney(option.getAttribute("data-rate")) })
      : charged.text + " × " + option.getAttribute("data-price") + (unit ? " · " + unit : "");
  }

  // --- Guards before submit: the server checks all of this too; these spare a round trip. ---
  var balance = micro(words.balance);
  var shortfallBox = document.getElementById("estimate-shortfall");
  var shortfall = 0n;

  function showShortfall(total) {
    shortfall = balance !== null && total > balance ? total - balance : 0n;
    if (!shortfallBox) return;
    shortfallBox.hidden = shortfall <= 0n;
    if (shortfall <= 0n) return;
    shortfallBox.textContent = say(words.topUp, { balance: money(balance), amount: money(shortfall) }) + " ";
    var link = element("a", "", words.addFunds);
    link.href = words.addFundsUrl;
    shortfallBox.appendChild(link);
  }

  // "instagram.com/p/abc" is what people paste; the order needs the scheme.
  var BARE_LINK = /^(?![a-z][a-z0-9+.\-]*:\/\/)[^\s@\/]+\.[a-z]{2,}(\/\S*)?$/i;

  function quantityProblem(option) {
    var quantity = field("quantity");
    if (!quantity || quantity.disabled || !quantity.value || !option) return "";
    var amount = Number(quantity.value);
    var min = Number(option.getAttribute("data-min")), max = Number(option.getAttribute("data-max"));
    var step = Number(option.getAttribute("data-step")) || 1;
    var runs = field("runs");
    var total = runs && !runs.disabled && Number(runs.value) > 1 ? amount * Number(runs.value) : amount;
    if (amount < min || total > max) {
      return say(words.quantityRange, { min: grouped(String(min)), max: grouped(String(max)) });
    }
    if (step > 1 && amount % step) return say(words.quantityStep, { step: grouped(String(step)) });
    return "";
  }

  form.addEventListener("submit", function (event) {
    var link = field("link");
    if (link && !link.disabled && BARE_LINK.test(link.value.trim())) {
      link.value = "https://" + link.value.trim();
    }
    var quantity = field("quantity");
    var problem = quantityProblem(current());
    if (quantity) quantity.setCustomValidity(problem);
    if (problem) {
      event.preventDefault();
      quantity.reportValidity();
    } else if (shortfall > 0n) {
      event.preventDefault();
      shortfallBox.scrollIntoView({ block: "center" });
    }
  });

  function updateLineCounts() {
    form.querySelectorAll("textarea[data-count-lines]").forEach(function (area) {
      var counter = area.parentNode.querySelector(".line-count");
      if (!counter) {
        counter = element("div", "line-count");
        area.insertAdjacentElement("afterend", counter);
      }
      var n = countLines(area.value);
      counter.textContent = n === 1 ? words.oneLine : say(words.lines, { n: grouped(String(n)) });
    });
  }

  function optionFor(service) {
    var option = document.createElement("option");
    option.value = service.id;
    option.textContent = (service.is_favorite ? "★ " : "") + service.id + " · " + service.name + " · " + shownMoney(service.rate);
    var data = {
      type: service.type, "type-label": service.type_label, rate: service.rate, min: service.min, max: service.max, step: service.step,
      price: service.price, "unit-price": service.unit_price || "", favorite: service.is_favorite ? "1" : "",
      category: service.category || "", platform: service.platform || "",
      dripfeed: service.dripfeed ? "1" : "", refill: service.refill ? (service.refill_badge || "1") : "", cancel: service.cancel ? "1" : "",
      "package": service.is_package ? "1" : "", name: service.name, desc: service.description || "",
      "usual-time": service.usual_time || "", "slow-time": service.slow_time || "",
      "partial-rate": service.partial_rate || "", "refill-rate": service.refill_rate || ""
    };
    Object.keys(data).forEach(function (key) { option.setAttribute("data-" + key, data[key]); });
    return option;
  }

  var pending = null;
  function loadServices(params) {
    if (pending) pending.abort();
    pending = new AbortController();
    select.disabled = true;
    return fetch(optionsUrl + "?" + new URLSearchParams(params).toString(), {
      headers: { "Accept": "application/json" }, credentials: "same-origin", signal: pending.signal
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        select.textContent = "";
        data.services.forEach(function (service) { select.appendChild(optionFor(service)); });
        if (!data.services.length) select.appendChild(element("option", "", words.noServices));
        select.selectedIndex = 0;
        select.disabled = false;
        applyLayout();
        renderFavorite();
      })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        select.disabled = false;
        filterForm.submit();  // fall back to the server-rendered page
      });
  }

  category.addEventListener("change", function () {
    search.value = "";
    if (category.value) loadServices({ category: category.value });
  });

  var searchTimer = null;
  function runSearch() {
    clearTimeout(searchTimer);
    var text = search.value.trim();
    if (text) {
      loadServices({ q: text });
    } else if (category.value) {
      loadServices({ category: category.value });
    }
  }
  search.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 300);
  });
  filterForm.addEventListener("submit", function (event) {
    event.preventDefault();
    runSearch();
  });

  // The chosen service's star: a form of its own (it works without this script, reloading
  // the page); here it follows the select and is sent without leaving the page.
  var favoriteForm = document.getElementById("favorite-form");
  function renderFavorite() {
    var option = current();
    if (!favoriteForm) return;
    favoriteForm.hidden = !option || !option.value;
    if (favoriteForm.hidden) return;
    var on = option.getAttribute("data-favorite") === "1";
    favoriteForm.action = favoriteForm.getAttribute("data-url-template").replace("/0/", "/" + option.value + "/");
    favoriteForm.elements.favorite.value = on ? "0" : "1";
    favoriteForm.elements.next.value = window.location.pathname + "?service=" + option.value;
    var button = favoriteForm.querySelector("button");
    button.classList.toggle("on", on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
    favoriteForm.querySelector("[data-favorite-label]").textContent = on ? words.favoriteOn : words.favoriteOff;
  }
  if (favoriteForm) {
    favoriteForm.addEventListener("submit", function (event) {
      var option = current();
      if (!option || !option.value) return;
      event.preventDefault();
      fetch(favoriteForm.action, {
        method: "POST", body: new FormData(favoriteForm), credentials: "same-origin",
        headers: { "Accept": "application/json" }
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          var starred = String(data.service);
          Array.prototype.forEach.call(select.options, function (each) {
            if (each.value !== starred) return;
            each.setAttribute("data-favorite", data.favorite ? "1" : "");
            each.textContent = (data.favorite ? "★ " : "") + each.textContent.replace(/^★ /, "");
          });
          renderFavorite();
        })
        .catch(function () { favoriteForm.submit(); });  // the server's round trip instead
    });
  }

  select.addEventListener("change", applyLayout);
  select.addEventListener("change", renderFavorite);
  drip.addEventListener("change", applyLayout);
  form.addEventListener("input", function (event) {
    if (event.target.matches("textarea[data-count-lines]")) updateLineCounts();
    if (event.target.name === "quantity" || event.target.name === "runs") {
      var quantity = field("quantity");
      if (quantity) quantity.setCustomValidity("");
    }
    updateEstimate();
  });

  updateLineCounts();
  applyLayout();
  renderFavorite();
})();
