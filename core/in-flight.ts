// Counts queries answered asynchronously and not yet sent, so that shutdown and reload can wait for them.
export class InFlight {
  #count = 0;
  #onIdle: (() => void) | undefined;

  started(): void {
    this.#count++;
  }

  settled(): void {
    if (--this.#count === 0) this.#onIdle?.();
  }

  /** Resolves once every started query has settled (or after timeoutMs). */
  idle(timeoutMs: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
