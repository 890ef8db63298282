/**
 * A binary heap keyed by string, with O(log n) update and delete by key (upstream
 * pkg/scheduler/backend/heap). `less(a, b)` says a comes out before b.
 */
export class KeyedHeap<T> {
  private items: T[] = [];
  private keys: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(
    private readonly keyOf: (v: T) => string,
    private readonly less: (a: T, b: T) => boolean,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  get(key: string): T | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.items[i];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds, or replaces the item with the same key and restores order. */
  addOrUpdate(v: T): void {
    const k = this.keyOf(v);
    const i = this.index.get(k);
    if (i !== undefined) {
      this.items[i] = v;
      this.fix(i);
      return;
    }
    this.items.push(v);
    this.keys.push(k);
    this.index.set(k, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.removeAt(0);
  }

  delete(key: string): T | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.removeAt(i);
  }

  list(): T[] {
    return [...this.items];
  }

  private removeAt(i: number): T {
    const v = this.items[i]!;
    const last = this.items.length - 1;
    this.swap(i, last);
    this.items.pop();
    this.index.delete(this.keys.pop()!);
    if (i < this.items.length) this.fix(i);
    return v;
  }

  private fix(i: number): void {
    if (!this.down(i)) this.up(i);
  }

  private swap(i: number, j: number): void {
    if (i === j) return;
    [this.items[i], this.items[j]] = [this.items[j]!, this.items[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
    this.index.set(this.keys[i]!, i);
    this.index.set(this.keys[j]!, j);
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.items[i]!, this.items[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Returns whether the item moved. */
  private down(i0: number): boolean {
    let i = i0;
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let c = l;
      if (l + 1 < n && this.less(this.items[l + 1]!, this.items[l]!)) c = l + 1;
      if (!this.less(this.items[c]!, this.items[i]!)) break;
      this.swap(i, c);
      i = c;
    }
    return i > i0;
  }
}
