// Markdown to DOM nodes, safely: the text only ever becomes text nodes, and links only http(s).
import { h } from "./dom.js";

const FENCE = /^\s*(`{3,}|~{3,})\s*([\w+.-]*)/;
const HEADING = /^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const LIST_ITEM = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/;
// One inline element; each alternative's groups are destructured in `inline`, in this order.
const INLINE = new RegExp(
  [
    /`([^`]+)`/, // `code`
    /\[([^\]]+)\]\(([^()\s]+)\)/, // [label](url)
    /\*\*(.+?)\*\*/, // **strong**
    /(?<!\w)__(.+?)__(?!\w)/, // __strong__, not inside a_snake__name
    /\*(?![\s*])(.+?)(?<!\s)\*/, // *em*, not 2 * 3 * 4
    /(?<!\w)_(?![\s_])(.+?)(?<!\s)_(?!\w)/, // _em_, not inside snake_case_name
    /(https?:\/\/[^\s<>]*[^\s<>.,;:!?'")\]])/, // a bare URL, without its trailing punctuation
  ]
    .map((part) => part.source)
    .join("|"),
);

/** A fragment of paragraphs, headings, lists and fenced code blocks rendering `text`. */
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let match;
    if ((match = line.match(FENCE))) {
      const body = [];
      const closing = match[1];
      for (i++; i < lines.length && !lines[i].trimStart().startsWith(closing); i++) {
        body.push(lines[i]);
      }
      i++; // the closing fence
      fragment.append(h("pre", { "data-lang": match[2] || null }, h("code", {}, body.join("\n"))));
    } else if ((match = line.match(HEADING))) {
      // Levels start at h3: the page and the conversation own h1 and h2.
      fragment.append(h(`h${Math.min(match[1].length + 2, 6)}`, {}, ...inline(match[2])));
      i++;
    } else if ((match = line.match(LIST_ITEM))) {
      const ordered = /\d/.test(match[1]);
      const start = ordered ? parseInt(match[1], 10) : 1;
      const list = h(ordered ? "ol" : "ul", { start: start === 1 ? null : start });
      const item = (line) => line?.match(LIST_ITEM);
      for (; (match = item(lines[i])) && /\d/.test(match[1]) === ordered; i++) {
        list.append(h("li", {}, ...inline(match[2])));
      }
      fragment.append(list);
    } else if (line.trim() === "") {
      i++;
    } else {
      const paragraph = h("p", {}, ...inline(line));
      for (i++; i < lines.length && lines[i].trim() !== "" && !startsBlock(lines[i]); i++) {
        paragraph.append(h("br"), ...inline(lines[i]));
      }
      fragment.append(paragraph);
    }
  }
  return fragment;
}

const startsBlock = (line) => FENCE.test(line) || HEADING.test(line) || LIST_ITEM.test(line);

/** The inline nodes of one line. */
function inline(text) {
  const nodes = [];
  let match;
  while ((match = text.match(INLINE))) {
    const [all, code, label, url, strong, strong2, em, em2, bare] = match;
    if (match.index > 0) nodes.push(text.slice(0, match.index));
    if (code !== undefined) nodes.push(h("code", {}, code));
    else if (label !== undefined) nodes.push(link(url, inline(label)) ?? all);
    else if (strong !== undefined || strong2 !== undefined) {
      nodes.push(h("strong", {}, ...inline(strong ?? strong2)));
    } else if (em !== undefined || em2 !== undefined) nodes.push(h("em", {}, ...inline(em ?? em2)));
    else nodes.push(link(bare, [bare]) ?? bare);
    text = text.slice(match.index + all.length);
  }
  if (text) nodes.push(text);
  return nodes;
}

/** A link to `url` if it is an absolute http(s) URL, else null (the caller keeps the text). */
function link(url, children) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  // A new tab keeps this page, and its connection, open.
  return h("a", { href: parsed.href, rel: "noopener noreferrer", target: "_blank" }, ...children);
}
