/** The words of a log's free-text filter, lower case. */
export function filterWords(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter((w) => w !== '')
}

/** Whether every word occurs in the text (case-insensitive); no words match everything. */
export function matchesWords(haystack: string, words: readonly string[]): boolean {
  if (words.length === 0) return true
  const hay = haystack.toLowerCase()
  return words.every((w) => hay.includes(w))
}
