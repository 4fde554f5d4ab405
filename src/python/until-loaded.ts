/**
 * Holds the records that arrive before the model's first load has an outcome. A record
 * is checked against the loaded model's input shape and feature names, which are not
 * known before: so records wait, at most `limit` of them, and go on in the order they
 * came once the model has loaded (or fail, if it never does).
 */
export class UntilLoaded<T> {
  private held: T[] | undefined = [];

  constructor(private readonly limit: number) {}

  /** True once the first load has succeeded or failed: records no longer wait. */
  get decided(): boolean {
    return this.held === undefined;
  }

  /** Keeps the item until `release`; false, keeping nothing, when `limit` items already wait (or once `decided`). */
  hold(item: T): boolean {
    if (this.held === undefined || this.held.length >= this.limit) return false;
    this.held.push(item);
    return true;
  }

  /** Ends the wait for good: every held item goes to `each`, in the order it arrived. */
  release(each: (item: T) => void): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const item of held) each(item);
  }
}
