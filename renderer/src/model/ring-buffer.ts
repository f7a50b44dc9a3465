/**
 * A fixed-capacity FIFO that overwrites its oldest item. The UI keeps live logs and series in these,
 * outside Vue's deep reactivity (DESIGN.md "Hot paths stay lean"): stores wrap one in `markRaw` and
 * bump a version counter when it changes.
 */
export class RingBuffer<T> {
  readonly capacity: number
  #items: (T | undefined)[]
  #start = 0
  #size = 0
  #total = 0

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring buffer capacity must be a positive integer, not ${capacity}`)
    this.capacity = capacity
    this.#items = new Array<T | undefined>(capacity)
  }

  /** Items held now (at most `capacity`). */
  get size(): number {
    return this.#size
  }

  /** Items ever pushed, including those overwritten since. */
  get total(): number {
    return this.#total
  }

  /** Items overwritten because the buffer was full. */
  get dropped(): number {
    return this.#total - this.#size
  }

  push(item: T): void {
    const end = (this.#start + this.#size) % this.capacity
    this.#items[end] = item
    if (this.#size < this.capacity) this.#size++
    else this.#start = (this.#start + 1) % this.capacity
    this.#total++
  }

  pushAll(items: Iterable<T>): void {
    for (const item of items) this.push(item)
  }

  /** The i-th oldest item held (0 = oldest). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined
    return this.#items[(this.#start + index) % this.capacity]
  }

  /** The newest item, if any. */
  last(): T | undefined {
    return this.at(this.#size - 1)
  }

  /** A copy, oldest first. */
  toArray(): T[] {
    const out: T[] = []
    for (let i = 0; i < this.#size; i++) out.push(this.#items[(this.#start + i) % this.capacity] as T)
    return out
  }

  /** The newest `count` items that pass `keep`, newest first (for log views that show the latest lines). */
  latest(count: number, keep: (item: T) => boolean = () => true): T[] {
    const out: T[] = []
    for (let i = this.#size - 1; i >= 0 && out.length < count; i--) {
      const item = this.#items[(this.#start + i) % this.capacity] as T
      if (keep(item)) out.push(item)
    }
    return out
  }

  clear(): void {
    this.#items = new Array<T | undefined>(this.capacity)
    this.#start = 0
    this.#size = 0
  }
}
