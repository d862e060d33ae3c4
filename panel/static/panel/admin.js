// On a phone the admin's lists read as cards (admin.css): each cell is labelled with its
// column's heading, which only the table head carries.
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("#result_list")) {
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, index) => {
        if (headings[index]) cell.dataset.label = headings[index];
      });
    }
  }
});
