// Which rows of a fixed-height list to render: only those in view plus an
// overscan each side, so 20,000 rows cost as much as 40.

export interface VirtualWindow {
  /** First row to render (inclusive). */
  start: number
  /** Row after the last one to render (exclusive). */
  end: number
  /** px from the top of the content to the first rendered row. */
  offset: number
  /** px: the height of all rows, for the scroll container's content. */
  total: number
}

export function virtualWindow(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): VirtualWindow {
  const total = count * rowHeight
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, offset: 0, total: Math.max(0, total) }
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, total - viewport)))
  const first = Math.floor(top / rowHeight)
  const last = Math.ceil((top + Math.max(0, viewport)) / rowHeight)
  const start = Math.max(0, first - overscan)
  const end = Math.min(count, last + overscan)
  return { start, end, offset: start * rowHeight, total }
}

/** The scrollTop that brings a row into view (unchanged when it already is). */
export function scrollToRow(index: number, scrollTop: number, viewport: number, rowHeight: number): number {
  const top = index * rowHeight
  if (top < scrollTop) return top
  if (top + rowHeight > scrollTop + viewport) return top + rowHeight - viewport
  return scrollTop
}
