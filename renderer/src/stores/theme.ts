import { defineStore } from 'pinia'
import { ref, watchEffect } from 'vue'

export type ThemeChoice = 'system' | 'light' | 'dark'
const KEY = 'objecttwin.theme'

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY)
    return v === 'light' || v === 'dark' ? v : 'system'
  } catch {
    return 'system'
  }
}

/** Light and dark themes: follows prefers-color-scheme until the user picks one. */
export const useThemeStore = defineStore('theme', () => {
  const choice = ref<ThemeChoice>(stored())
  const systemDark = ref(typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches)
  if (typeof matchMedia === 'function') {
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', (e) => {
      systemDark.value = e.matches
    })
  }

  watchEffect(() => {
    const root = document.documentElement
    if (choice.value === 'system') root.removeAttribute('data-theme')
    else root.setAttribute('data-theme', choice.value)
    try {
      if (choice.value === 'system') localStorage.removeItem(KEY)
      else localStorage.setItem(KEY, choice.value)
    } catch {
      // Private windows may refuse storage; the choice still holds for this page.
    }
  })

  /** Flips between light and dark from whatever shows now. */
  function toggle(): void {
    const dark = choice.value === 'dark' || (choice.value === 'system' && systemDark.value)
    choice.value = dark ? 'light' : 'dark'
  }

  const isDark = (): boolean => choice.value === 'dark' || (choice.value === 'system' && systemDark.value)

  return { choice, systemDark, toggle, isDark }
})
