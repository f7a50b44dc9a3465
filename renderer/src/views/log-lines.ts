import { computed, ref, type ComputedRef, type Ref } from 'vue'
import { filterWords } from '../model/log-filter.ts'
import { useLogsStore } from '../stores/logs.ts'

/** How many lines a log view draws (the newest that pass its filters). */
export const LOG_LINES_SHOWN = 500

/**
 * A log view's lines: recomputed when the log moves (at most once a frame) or a filter changes, and
 * held as they are while paused. `select` gets the free-text filter's words.
 */
export function useLogLines<T>(select: (words: readonly string[]) => T[]): { lines: ComputedRef<T[]>; text: Ref<string>; paused: Ref<boolean> } {
  const logs = useLogsStore()
  const text = ref('')
  const paused = ref(false)
  let frozen: T[] = []
  const lines = computed(() => {
    void logs.version
    if (paused.value) return frozen
    frozen = select(filterWords(text.value))
    return frozen
  })
  return { lines, text, paused }
}
