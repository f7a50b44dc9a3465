import type { ConsoleApi } from '../../../shared/api/console-api.ts'

let current: ConsoleApi | undefined

/** Sets the API the stores and views use (main.ts at start; tests with a fake). */
export function provideApi(api: ConsoleApi): void {
  current = api
}

/** The console API chosen at start. Views and stores call it; nothing else talks to the engine. */
export function useApi(): ConsoleApi {
  if (!current) throw new Error('the console API is not set: call provideApi() before mounting the app')
  return current
}
