/** The REST/SSE tests' client: JSON requests and a minimal Server-Sent Events reader over fetch. */

/** One JSON request; the answer's status and parsed body (undefined when empty). */
export async function jsonRequest(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) }
}

export interface SseEvent {
  readonly event: string
  readonly data: unknown
}

/** Opens the SSE stream and collects its events until closed. */
export async function openEvents(url: string, headers: Record<string, string> = {}): Promise<{ status: number; events: SseEvent[]; close(): void }> {
  const abort = new AbortController()
  const res = await fetch(url, { headers, signal: abort.signal })
  const events: SseEvent[] = []
  if (res.body) {
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return
          buffer += decoder.decode(value, { stream: true })
          let end: number
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const event = /^event: (.*)$/m.exec(block)?.[1]
            const data = /^data: (.*)$/m.exec(block)?.[1]
            if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) })
          }
        }
      } catch {
        // aborted
      }
    })()
  }
  return { status: res.status, events, close: () => abort.abort() }
}
