/**
 * XML text escaping for CAP and Atom. Names and notes come from config and operators: `&<>"'`
 * are escaped, and characters XML 1.0 does not allow at all (C0 controls other than tab, LF, CR;
 * lone surrogates; U+FFFE/U+FFFF) are dropped, so a hostile name can never break the document.
 */
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function xmlText(value: string | number): string {
  return String(value)
    .replace(NOT_XML_CHAR, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `<name>text</name>` with the text escaped. */
export function el(name: string, text: string | number): string {
  return `<${name}>${xmlText(text)}</${name}>`;
}
