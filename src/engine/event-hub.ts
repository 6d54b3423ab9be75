import { EventEmitter } from 'node:events';

/**
 * In-process fan-out of live events (deployment steps, build output) to streaming readers.
 * Durable history lives in the store; this only carries what happens while someone listens.
 */
export class EventHub<T> {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(key: string, item: T): void {
    this.emitter.emit(key, { item });
  }

  end(key: string): void {
    this.emitter.emit(key, { end: true });
  }

  /** Calls onItem for each published item until end(key); returns an unsubscribe function. */
  subscribe(key: string, onItem: (item: T) => void, onEnd: () => void): () => void {
    const listener = (e: { item?: T; end?: boolean }) => {
      if (e.end) {
        off();
        onEnd();
      } else onItem(e.item as T);
    };
    const off = () => this.emitter.off(key, listener);
    this.emitter.on(key, listener);
    return off;
  }
}
