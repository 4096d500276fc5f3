// Builds DOM nodes. Text only ever becomes text nodes, never parsed as HTML.

/**
 * `<tag attrs>children</tag>`: strings among `children` become text; null, undefined and false
 * are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value != null && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child != null && child !== false));
  return node;
}
