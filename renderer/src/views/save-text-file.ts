/** What saveTextFile needs of the page (a stand-in in tests). */
export interface SaveTextEnv {
  readonly document: { createElement(tag: 'a'): HTMLAnchorElement; readonly body: { append(node: Node): void } }
  readonly urls: { createObjectURL(blob: Blob): string; revokeObjectURL(url: string): void }
  readonly later: (run: () => void, ms: number) => void
}

/** The download reads the blob after the click returns (Electron first asks where to save it): keep the URL this long. */
export const OBJECT_URL_LIFETIME_MS = 60_000

const pageEnv = (): SaveTextEnv => ({ document, urls: URL, later: (run, ms) => void setTimeout(run, ms) })

/**
 * Saves text the page holds as a file, through a Blob, an object URL and a clicked `<a download>`: a
 * browser downloads it, Electron shows its save dialog (no will-download handler in the main process).
 */
export function saveTextFile(filename: string, text: string, type: string, env: SaveTextEnv = pageEnv()): void {
  const url = env.urls.createObjectURL(new Blob([text], { type }))
  const link = env.document.createElement('a')
  link.href = url
  link.download = filename
  link.hidden = true
  env.document.body.append(link)
  link.click()
  link.remove()
  env.later(() => env.urls.revokeObjectURL(url), OBJECT_URL_LIFETIME_MS)
}
