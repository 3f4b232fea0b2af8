// Accessible names and keyboard access for a few parts of the theme (checked by axe-core in
// tests/site/test_phone_and_a11y.py):
// - the search field's button shows "Search Ctrl+K", so its name comes from that text;
// - the colour-mode button's icons are decoration (their titles would become its visible text):
//   its name is its label, "Color mode";
// - each expand arrow of the sidebar's contents names the chapter it opens;
// - a "Going deeper" dropdown's name is its visible title, not "Toggle hidden content";
// - a box that scrolls sideways (a wide table, a long output) can be reached with the keyboard;
// - on a phone, a figure drawn wider than the text column uses the whole width of the screen;
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
    const screen = document.documentElement.clientWidth;
    document.querySelectorAll(".cell_output img").forEach((img) => {
      img.style.marginLeft = img.style.maxWidth = "";
      const column = img.parentElement.getBoundingClientRect();
      if (screen <= 600 && column.width > 0 && img.complete && img.naturalWidth > column.width) {
        img.style.maxWidth = `${Math.min(img.naturalWidth, screen)}px`;  // edge to edge of the screen
        img.style.marginLeft = `${-column.left}px`;
      }
    });
    document.querySelectorAll(".citation-list[role='list']").forEach((list) => {
      list.removeAttribute("role");
    });
  };
  fix();  // deferred: the page is parsed
  window.addEventListener("load", fix);  // after the icon font's script has drawn its icons
  window.addEventListener("resize", fix);  // a table may start to scroll on a narrower screen
})();
