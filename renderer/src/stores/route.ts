import { defineStore } from 'pinia'
import { shallowRef } from 'vue'
import { formatRoute, parseRoute, type Route } from '../model/route.ts'

/** The current view, from and to the URL hash. */
export const useRouteStore = defineStore('route', () => {
  const current = shallowRef<Route>(parseRoute(location.hash))
  window.addEventListener('hashchange', () => {
    current.value = parseRoute(location.hash)
  })

  function go(route: Route, replace = false): void {
    const hash = formatRoute(route)
    current.value = route
    if (location.hash === hash) return
    if (replace) history.replaceState(history.state, '', hash)
    else location.hash = hash
  }

  return { current, go }
})
