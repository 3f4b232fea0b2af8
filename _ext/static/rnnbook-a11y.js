// Accessible names for three controls of the theme (checked by axe-core in tests/site):
// - the search field's button says "Search Ctrl+K" on screen, so its name must say so too;
// - the colour-mode button's icons are decoration: its name is its aria-label, "Color mode";
// - each expand arrow of the sidebar's contents names the chapter it opens.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".search-button-field[aria-label]").forEach((button) => {
    button.removeAttribute("aria-label"); // the name comes from the visible text
  });
  document.querySelectorAll(".theme-switch-button i").forEach((icon) => {
    icon.setAttribute("aria-hidden", "true");
  });
  document.querySelectorAll("nav details > summary").forEach((summary) => {
    if (summary.textContent.trim()) return;
    const link = summary.parentElement.parentElement.querySelector(":scope > a");
    summary.setAttribute("aria-label", "Sections of " + (link ? link.textContent.trim() : "this chapter"));
  });
});
