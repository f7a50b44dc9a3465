/** The console's views, addressed by the URL hash so a reload or a shared link keeps the place. */
export type Route =
  | { readonly view: 'clients' }
  | { readonly view: 'client'; readonly endpoint: string; readonly path?: string }
  | { readonly view: 'monitor'; readonly endpoint: string; readonly path: string }
  | { readonly view: 'history'; readonly endpoint?: string; readonly path?: string }
  | { readonly view: 'events' }
  | { readonly view: 'wire' }
  | { readonly view: 'inspector' }
  | { readonly view: 'gateway' }
  | { readonly view: 'wall' }
  | { readonly view: 'mqtt' }
  /** Device identities: PSK identities, NoSec endpoints and the NoSec policy. */
  | { readonly view: 'security' }
  /** The desktop app's version and updates (Electron only). */
  | { readonly view: 'about' }

const LWM2M_PATH = /^(?:\/\d{1,5}){1,4}$/

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** Reads `#/clients/<endpoint>/3/0/1` and the like; anything unknown is the clients list. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '')
  const [head = '', ...rest] = raw.replace(/^\//, '').split('/')
  const tail = rest.length > 1 ? '/' + rest.slice(1).join('/') : ''
  const endpoint = rest[0] !== undefined && rest[0] !== '' ? decode(rest[0]) : undefined
  switch (head) {
    case 'events':
    case 'wire':
    case 'inspector':
    case 'gateway':
    case 'wall':
    case 'mqtt':
    case 'security':
    case 'about':
      return { view: head }
    case 'clients':
      if (endpoint === undefined) return { view: 'clients' }
      return LWM2M_PATH.test(tail) ? { view: 'client', endpoint, path: tail } : { view: 'client', endpoint }
    case 'monitor':
      if (endpoint === undefined || !LWM2M_PATH.test(tail)) return { view: 'clients' }
      return { view: 'monitor', endpoint, path: tail }
    case 'history':
      if (endpoint === undefined) return { view: 'history' }
      return LWM2M_PATH.test(tail) ? { view: 'history', endpoint, path: tail } : { view: 'history', endpoint }
    default:
      return { view: 'clients' }
  }
}

export function formatRoute(route: Route): string {
  switch (route.view) {
    case 'client':
      return `#/clients/${encodeURIComponent(route.endpoint)}${route.path && LWM2M_PATH.test(route.path) ? route.path : ''}`
    case 'monitor':
      return `#/monitor/${encodeURIComponent(route.endpoint)}${route.path}`
    case 'history':
      return route.endpoint === undefined ? '#/history' : `#/history/${encodeURIComponent(route.endpoint)}${route.path && LWM2M_PATH.test(route.path) ? route.path : ''}`
    default:
      return `#/${route.view}`
  }
}
