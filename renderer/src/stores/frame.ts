/**
 * Coalesces bursts of changes into one callback per animation frame (DESIGN.md: redraw at most once
 * per frame). Falls back to a timer where there is no requestAnimationFrame (hidden tabs, tests).
 */
export function frameScheduler(run: () => void): () => void {
  let pending = false
  const flush = (): void => {
    pending = false
    run()
  }
  return () => {
    if (pending) return
    pending = true
    if (typeof requestAnimationFrame === 'function' && typeof document !== 'undefined' && document.visibilityState !== 'hidden') requestAnimationFrame(flush)
    else setTimeout(flush, 16)
  }
}
