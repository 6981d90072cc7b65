/**
 * What the local AWS stand-ins (StsServer, SsoServer) share: listening on 127.0.0.1, stopping,
 * a movable clock, the log of requests, and queued faults. Each server subclasses it and adds
 * its protocol; tests use the servers, not this class.
 */

/** What every logged request says; each server's call type adds its own fields. */
export interface LoggedCall<K extends string> {
  readonly action: string;
  /** Server time when the request arrived. */
  readonly time: Date;
  /** HTTP status answered (0 for a dropped connection). */
  readonly status: number;
  /** The injected fault that shaped the answer, if any. */
  readonly fault: K | undefined;
}

/** A queued fault; "slow" answers normally after `delayMs`, any other kind is the server's. */
export interface QueuedFault<K extends string> {
  readonly kind: K;
  /** Only requests for this action (default: any request). */
  readonly action?: string;
  /** How many matching requests (default 1; Infinity for all). */
  readonly times?: number;
  /** For slow (default 1000 ms). */
  readonly delayMs?: number;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface LocalServiceOptions<C> {
  /** The server's clock in ms (default Date.now); `clockOffset` moves it further. */
  readonly clock?: () => number;
  /** Called after each request is answered (the `sts` task prints them). */
  readonly onCall?: (call: C) => void;
}

export abstract class LocalService<
  K extends string,
  C extends LoggedCall<K>,
  F extends QueuedFault<K>,
> {
  readonly #servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  readonly #clock: () => number;
  readonly #onCall: ((call: C) => void) | undefined;
  /** Ends slow answers when the server stops. */
  readonly #stopping = new AbortController();
  #offsetMs = 0;
  #calls: Mutable<C>[] = [];
  #faults: Array<{ fault: F; left: number }> = [];

  constructor(options: LocalServiceOptions<C>) {
    this.#clock = options.clock ?? Date.now;
    this.#onCall = options.onCall;
  }

  /** Stops listening, ends slow answers early, and waits for open requests to finish. */
  async stop(): Promise<void> {
    if (this.#stopping.signal.aborted) {
      await Promise.all(this.#servers.map((server) => server.finished));
      return;
    }
    this.#stopping.abort();
    await Promise.all(this.#servers.map((server) => server.shutdown()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Every request so far, oldest first. */
  get calls(): readonly C[] {
    return this.#calls;
  }

  /** How many requests arrived for an action (all actions when omitted), whatever the outcome. */
  count(action?: string): number {
    return this.#calls.filter((call) => action === undefined || call.action === action).length;
  }

  /** Requests per action. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of this.#calls) counts[call.action] = (counts[call.action] ?? 0) + 1;
    return counts;
  }

  /** Queues a fault for the next matching request(s). */
  inject(fault: F): void {
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new Error(`fault times must be positive, not ${times}`);
    this.#faults.push({ fault, left: times });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /** Forgets calls, faults and the clock offset; subclasses forget their own settings too. */
  reset(): void {
    this.#calls = [];
    this.#faults = [];
    this.#offsetMs = 0;
  }

  /**
   * Moves the server's clock (not cumulative): whatever the server issues expires by it, and the
   * `date` header the SDKs correct their skew from carries it.
   */
  clockOffset(seconds: number): void {
    this.#offsetMs = seconds * 1000;
  }

  /** The server's clock. */
  now(): Date {
    return new Date(this.nowMs());
  }

  protected nowMs(): number {
    return this.#clock() + this.#offsetMs;
  }

  /** Listens on 127.0.0.1; a port already in use is named in one line. */
  protected listen(
    port: number,
    what: string,
    handler: (request: Request) => Response | Promise<Response>,
  ): Deno.HttpServer<Deno.NetAddr> {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
    } catch (error) {
      // the servers this one already opened must not outlive the failed constructor
      for (const open of this.#servers) open.shutdown();
      if (error instanceof Deno.errors.AddrInUse) {
        throw new Error(
          `port ${port} (${what}) is already in use: is another local endpoint running? ` +
            "stop it or choose another port",
          { cause: error },
        );
      }
      throw error;
    }
    this.#servers.push(server);
    return server;
  }

  /** Adds a request to the log (the server fills in the rest as it answers). */
  protected log(call: Mutable<C>): Mutable<C> {
    this.#calls.push(call);
    return call;
  }

  /**
   * The fault queued for this request, noted in its log entry. A slow one is served here (the
   * request waits, then is answered normally) and not returned.
   */
  protected async takeFault(action: string, call: Mutable<C>): Promise<F | undefined> {
    const index = this.#faults.findIndex((entry) =>
      entry.fault.action === undefined || entry.fault.action === action
    );
    if (index < 0) return undefined;
    const entry = this.#faults[index]!;
    entry.left -= 1;
    if (entry.left <= 0) this.#faults.splice(index, 1);
    (call as Mutable<LoggedCall<K>>).fault = entry.fault.kind;
    if (entry.fault.kind !== "slow") return entry.fault;
    await this.#sleep(entry.fault.delayMs ?? 1000);
    return undefined;
  }

  /** Records the answer's status and tells the observer. */
  protected finish(call: Mutable<C>, response: Response): Response {
    if (call.fault !== "drop") (call as Mutable<LoggedCall<K>>).status = response.status;
    try {
      this.#onCall?.(call);
    } catch {
      // a broken observer must not break the answer
    }
    return response;
  }

  /**
   * An answer that promises a body and sends none: Deno.serve exposes no socket to close, and
   * this makes it close the connection after the headers, so the client sees the connection drop.
   */
  protected droppedConnection(): Response {
    const nothing = new ReadableStream({ start: (controller) => controller.close() });
    return new Response(nothing, { status: 200, headers: { "content-length": "1000" } });
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#stopping.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
