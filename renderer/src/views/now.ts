import { onBeforeUnmount, ref, type Ref } from 'vue'

/** The current time, refreshed every `periodMs` while the component lives (for "5 s ago" labels). */
export function useNow(periodMs = 5000): Ref<number> {
  const now = ref(Date.now())
  const timer = setInterval(() => {
    now.value = Date.now()
  }, periodMs)
  onBeforeUnmount(() => clearInterval(timer))
  return now
}
