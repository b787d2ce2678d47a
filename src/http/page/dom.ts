// Small DOM and formatting helpers of the live view's page (runs in the browser).

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

/** An element with attributes (`class`, `style`, `data-*`, `title`, ...) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

/** Replaces the children of the element with id `id` (no-op when the page lacks it). */
export function fill(id: string, ...children: (Child | Child[])[]): void {
  const el = document.getElementById(id);
  if (el === null) return;
  const nodes = children
    .flat()
    .filter((c): c is Node | string => c !== null && c !== undefined && c !== false);
  el.replaceChildren(...nodes);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${UNITS[i] ?? 'B'}`;
}

/** 12345 → "12,345"; large values shortened (1.2 M). */
export function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return Math.round(n).toLocaleString('en-US');
}

/** Microseconds as "850 µs", "1.2 ms", "2.1 s". */
export function micros(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(1)} s`;
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 1e4 ? 0 : 1)} ms`;
  return `${us >= 10 ? Math.round(us) : us.toFixed(1)} µs`;
}

export function pct(part: number, whole: number): number {
  return whole <= 0 ? 0 : Math.min(100, Math.max(0, (part / whole) * 100));
}

/** A horizontal bar: `value` of `max`, with a label inside. */
export function bar(value: number, max: number, label: string, cls = ''): HTMLElement {
  const p = pct(value, max);
  return h(
    'div',
    { class: `bar ${cls}`.trim(), title: label },
    h('div', { class: 'bar-fill', style: `width:${p.toFixed(1)}%` }),
    h('span', { class: 'bar-label' }, label),
  );
}

/** A label–value pair in a figure grid. */
export function figure(name: string, value: string, cls = ''): HTMLElement {
  return h(
    'div',
    { class: `fig ${cls}`.trim() },
    h('span', { class: 'fig-v' }, value),
    h('span', { class: 'fig-k' }, name),
  );
}

export function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
