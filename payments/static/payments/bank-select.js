// The admin's bank picker: the search box above the bank list keeps only the banks whose name,
// code or BIN holds every word typed (accents ignored, so "ngoai thuong" finds "Ngoại Thương")
// and picks the best of them (one with a word that starts as typed: "vcb" is Vietcombank, not
// PVcomBank), so "vcb" then Save is enough.
(function () {
  "use strict";
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("bank-search")) return;
    var select = document.getElementById(box.getAttribute("data-for"));
    if (!select) return;
    var words = plain(box.value).split(/\s+/).filter(Boolean);
    var best = null;
    var bestRank = 2;
    Array.prototype.forEach.call(select.options, function (option) {
      var text = plain(option.text + " " + option.value);
      var match = option.value !== "" && words.every(function (word) { return text.indexOf(word) !== -1; });
      option.hidden = words.length > 0 && !match;
      if (!match || !words.length) return;
      var starts = text.split(/[^a-z0-9]+/).some(function (part) { return part.indexOf(words[0]) === 0; });
      var rank = starts ? 0 : 1;
      if (rank < bestRank) { best = option; bestRank = rank; }
    });
    if (best) select.value = best.value;
  });
})();
