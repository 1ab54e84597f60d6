// A table that scrolls sideways (a wide report on a phone, its own box on a desktop) must be
// reachable with the keyboard, or a keyboard user cannot read its hidden columns (WCAG 2.1.1,
// axe-core's scrollable-region-focusable): such a region gets into the tab order, named after
// its table's caption or the heading above it. Checked again when the window changes size.
(() => {
  'use strict';
  function label(el) {
    const caption = el.querySelector('caption');
    if (caption) return caption.textContent.trim();
    let prev = el.previousElementSibling;
    while (prev && !/^H[1-6]$/.test(prev.tagName)) prev = prev.previousElementSibling;
    const section = el.closest('section');
    const heading = prev || (section && section.querySelector('h1, h2, h3'));
    return heading ? heading.textContent.trim() : 'Bảng';
  }
  function mark() {
    document.querySelectorAll('main table, main .overflow-auto, main .report-table').forEach((el) => {
      const scrolls = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
      const style = getComputedStyle(el);
      const scrollable = scrolls && /(auto|scroll)/.test(style.overflowX + style.overflowY);
      if (scrollable && !el.hasAttribute('tabindex')) {
        el.setAttribute('tabindex', '0');
        el.dataset.scrollRegion = '1';
        if (el.tagName !== 'TABLE') {
          el.setAttribute('role', 'region');
          el.setAttribute('aria-label', label(el) + ' (cuộn ngang để xem hết)');
        }
      } else if (!scrollable && el.dataset.scrollRegion) {
        el.removeAttribute('tabindex');
        delete el.dataset.scrollRegion;
        if (el.tagName !== 'TABLE') {
          el.removeAttribute('role');
          el.removeAttribute('aria-label');
        }
      }
    });
  }
  mark();
  let pending = 0;
  window.addEventListener('resize', () => {
    clearTimeout(pending);
    pending = setTimeout(mark, 150);
  });
  document.addEventListener('htmx:afterSwap', mark);
})();
