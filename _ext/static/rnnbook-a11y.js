// Accessible names and keyboard access for a few parts of the theme (checked by axe-core in
// tests/site/test_phone_and_a11y.py):
// - the search field's button shows "Search Ctrl+K", so its name comes from that text;
// - the colour-mode button's icons are decoration (their titles would become its visible text):
//   its name is its label, "Color mode";
// - each expand arrow of the sidebar's contents names the chapter it opens;
// - a "Going deeper" dropdown's name is its visible title, not "Toggle hidden content";
// - a box that scrolls sideways (a wide table, a long output) can be reached with the keyboard;
// - a figure drawn wider than the text column may use the whole width of a phone's screen (CSS);
// - the references page's list of citations holds list items only (docutils adds back-links).
(() => {
  const fix = () => {
    document.querySelectorAll(".search-button-field[aria-label]").forEach((button) => {
      button.removeAttribute("aria-label");
    });
    document.querySelectorAll(".theme-switch-button .theme-switch").forEach((icon) => {
      icon.removeAttribute("title");
      icon.setAttribute("aria-hidden", "true");
      icon.querySelectorAll("title").forEach((t) => t.remove());
      icon.removeAttribute("aria-labelledby");
      icon.removeAttribute("role");
    });
    document.querySelectorAll("nav details > summary").forEach((summary) => {
      if (summary.textContent.trim() || summary.hasAttribute("aria-label")) return;
      const link = summary.parentElement.parentElement.querySelector(":scope > a");
      summary.setAttribute("aria-label", "Sections of " + (link ? link.textContent.trim() : "this chapter"));
    });
    document.querySelectorAll("summary[aria-label='Toggle hidden content']").forEach((summary) => {
      if (summary.textContent.trim()) summary.removeAttribute("aria-label");
    });
    document.querySelectorAll(".pst-scrollable-table-container, main pre, main table").forEach((box) => {
      if (box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
      }
    });
    document.querySelectorAll(".cell_output img").forEach((img) => {
      const column = img.parentElement.clientWidth;
      img.classList.toggle("wide-figure", img.complete && img.naturalWidth > column);
    });
    document.querySelectorAll(".citation-list[role='list']").forEach((list) => {
      list.removeAttribute("role");
    });
  };
  fix();  // deferred: the page is parsed
  window.addEventListener("load", fix);  // after the icon font's script has drawn its icons
  window.addEventListener("resize", fix);  // a table may start to scroll on a narrower screen
})();
