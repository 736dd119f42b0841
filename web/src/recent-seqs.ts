/** The last `capacity` seqs seen, for dropping repeats in O(1) with bounded memory. */
export class RecentSeqs {
  readonly #set = new Set<number>();
  readonly #order: number[] = [];
  #head = 0;

  constructor(private readonly capacity: number) {}

  /** false when `seq` was seen already */
  add(seq: number): boolean {
    if (this.#set.has(seq)) return false;
    this.#set.add(seq);
    this.#order.push(seq);
    if (this.#order.length - this.#head > this.capacity) {
      this.#set.delete(this.#order[this.#head++]!);
      if (this.#head > this.capacity) {
        this.#order.splice(0, this.#head);
        this.#head = 0;
      }
    }
    return true;
  }

  clear(): void {
    this.#set.clear();
    this.#order.length = 0;
    this.#head = 0;
  }
}
