// The admin's bank picker: the search box above the bank list keeps only the banks whose name,
// code or BIN holds every word typed (accents ignored, so "ngoai thuong" finds "Ngoại Thương")
// and picks the first of them, so "vcb" then Save is enough.
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
    var first = null;
    Array.prototype.forEach.call(select.options, function (option) {
      var text = plain(option.text + " " + option.value);
      var match = option.value !== "" && words.every(function (word) { return text.indexOf(word) !== -1; });
      option.hidden = words.length > 0 && !match;
      if (match && first === null) first = option;
    });
    if (first) select.value = first.value;
  });
})();
