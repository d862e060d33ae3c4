/* The new-ticket form: only the fields of the chosen subject show. Without JavaScript every
 * field shows, and the server checks which ones the subject needs. */
(function () {
  "use strict";
  var kind = document.getElementById("id_kind");
  if (!kind) return;
  function update() {
    document.querySelectorAll("#ticket-form [data-kind]").forEach(function (box) {
      box.hidden = box.getAttribute("data-kind") !== kind.value;
    });
  }
  kind.addEventListener("change", update);
  update();
})();
