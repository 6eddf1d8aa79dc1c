// The page's side of the worker protocol (web/js/worker.js): numbered calls that resolve with
// the result, reject with the adapter's message, and report progress on the way.

export class WorkerClient {
  constructor(url) {
    this.worker = new Worker(url, { type: "module" });
    this.next = 1;
    this.pending = new Map();
    this.worker.onmessage = (event) => this.#receive(event.data);
    this.worker.onerror = (event) => {
      const message = `mpcdiff worker failed to start or crashed: ${event.message ?? "unknown error"}`;
      for (const p of this.pending.values()) p.reject(new Error(message));
      this.pending.clear();
      this.onerror?.(new Error(message));
    };
  }

  // Calls `method` with `args`; `onProgress({done, total, note})` sees progress reports.
  // Returns a promise with an extra `id` (for `cancel`).
  call(method, args = {}, { onProgress, transfer = [] } = {}) {
    const id = this.next++;
    const promise = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
    });
    this.worker.postMessage({ id, method, args }, transfer);
    promise.id = id;
    return promise;
  }

  // Asks the running call `id` to stop at its next step.
  cancel(id) {
    return this.call("cancel", { target: id });
  }

  #receive({ id, result, error, progress }) {
    const p = this.pending.get(id);
    if (!p) return;
    if (progress) {
      p.onProgress?.(progress);
      return;
    }
    this.pending.delete(id);
    if (error) p.reject(new Error(error.message));
    else p.resolve(result);
  }
}
