/** Keel's icon (public/favicon.svg), drawn again here so a badge can be added to it. */
const ICON = '<rect width="32" height="32" rx="7" fill="#2f6fde"/><path d="M7 20h18l-4 5H11z M15 6h2v13h-2z M17 8l6 9h-6z" fill="#fff"/>';

/**
 * The favicon as an SVG data URL: with a red badge holding `count` (runs waiting for an
 * approval; "9+" above nine), or a plain dot when nothing waits but a run finished unseen, or
 * the plain icon.
 */
export function faviconUrl(count: number, dot: boolean): string {
  let badge = '';
  if (count > 0) {
    const label = count > 9 ? '9+' : String(count);
    badge =
      `<circle cx="23" cy="9" r="9" fill="#d92d20" stroke="#fff" stroke-width="1.5"/>` +
      `<text x="23" y="13" text-anchor="middle" font-family="Arial,Helvetica,sans-serif" font-weight="700" font-size="${label.length > 1 ? 10 : 12}" fill="#fff">${label}</text>`;
  } else if (dot) {
    badge = '<circle cx="25" cy="7" r="6" fill="#d92d20" stroke="#fff" stroke-width="1.5"/>';
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">${ICON}${badge}</svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** Points the page's icon link at `href` (a data URL: the page's CSP allows `img-src data:`). */
export function setFavicon(href: string): void {
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.appendChild(link);
  }
  if (link.getAttribute('href') === href) return;
  link.type = 'image/svg+xml';
  link.href = href;
}
