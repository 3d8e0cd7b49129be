// Building DOM nodes without innerHTML: every text from the server or the
// audited site goes in as text, never as markup.

export type Child = Node | string | number | null | undefined | false | Child[];
export type Attrs = Record<string, unknown> | null;

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error('missing #' + id);
  return el as T;
};

function setAttrs(el: Element, attrs: Attrs): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'style' && typeof v === 'object') {
      // Through the CSSOM: the page's CSP allows no style="" attributes.
      for (const [p, val] of Object.entries(v as Record<string, string>)) (el as HTMLElement).style.setProperty(p, val);
    } else if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v as EventListener);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

function append(el: Element, kids: Child[]): void {
  for (const c of kids.flat(9 as 1) as Child[]) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** An HTML element: h('p', { class: 'x' }, 'text', child, [more]). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...kids: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs ?? null);
  append(el, kids);
  return el;
}

/** An SVG element. */
export function sv(tag: string, attrs?: Attrs, ...kids: Child[]): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag) as SVGElement;
  setAttrs(el, attrs ?? null);
  append(el, kids);
  return el;
}

/** A link only for http(s) URLs: URLs from audited sites and workers must not become javascript: links. */
export function linkOrText(u: unknown): HTMLElement {
  let scheme = '';
  try {
    scheme = new URL(String(u)).protocol;
  } catch {
    /* not a URL: plain text */
  }
  if (scheme !== 'http:' && scheme !== 'https:') return h('span', null, String(u ?? ''));
  return h('a', { href: String(u), target: '_blank', rel: 'noopener noreferrer' }, String(u));
}

export function setBadge(el: HTMLElement, state: string, label = state): void {
  el.dataset.state = state;
  el.textContent = label;
}
