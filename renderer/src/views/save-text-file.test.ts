import { describe, expect, it } from 'vitest'
import { OBJECT_URL_LIFETIME_MS, saveTextFile, type SaveTextEnv } from './save-text-file.ts'

/** A page stand-in that records what saveTextFile does, in order. */
function fakePage() {
  const log: string[] = []
  const blobs = new Map<string, Blob>()
  const timers: Array<{ run: () => void; ms: number }> = []
  const link = {
    href: '',
    download: '',
    hidden: false,
    click: () => log.push(`click ${link.download} ${link.href} hidden=${link.hidden}`),
    remove: () => log.push('remove'),
  }
  const env: SaveTextEnv = {
    document: {
      createElement: () => link as unknown as HTMLAnchorElement,
      body: { append: () => void log.push('append') },
    },
    urls: {
      createObjectURL: (blob) => {
        const url = `blob:test/${blobs.size}`
        blobs.set(url, blob)
        return url
      },
      revokeObjectURL: (url) => void log.push(`revoke ${url}`),
    },
    later: (run, ms) => void timers.push({ run, ms }),
  }
  return { env, log, blobs, timers }
}

describe('saveTextFile', () => {
  it('clicks a hidden download link to an object URL of the text, and revokes the URL only later', async () => {
    const page = fakePage()
    saveTextFile('ep_1031_0_1.csv', 'time,value\n', 'text/csv;charset=utf-8', page.env)
    expect(page.log).toEqual(['append', 'click ep_1031_0_1.csv blob:test/0 hidden=true', 'remove'])
    const blob = page.blobs.get('blob:test/0')
    expect(blob?.type).toBe('text/csv;charset=utf-8')
    expect(await blob?.text()).toBe('time,value\n')
    // Revoked at once, the URL could be gone before the download (or Electron's save dialog) reads it.
    expect(page.timers.map((t) => t.ms)).toEqual([OBJECT_URL_LIFETIME_MS])
    page.timers[0]?.run()
    expect(page.log.at(-1)).toBe('revoke blob:test/0')
  })
})
